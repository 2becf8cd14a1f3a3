//! The data the analyzer ships with: capability definitions (`rules/capabilities.toml`)
//! and the bundled documents of AWS managed policies (`rules/aws-managed/*.json`, facts in
//! `rules/aws-managed/INDEX.toml`), compiled with `iam`'s policy parser. The action
//! catalogue (`rules/actions/<service>.toml`) is read by IAM conditions, so it lives in
//! [`crate::iam::actions`], below this module; it is re-exported here.
//!
//! The files are compiled in; unit tests check that they parse, so a broken data file
//! fails the build's tests rather than a user's run. Parsed data is kept in `OnceLock`s:
//! the files are read once per process whatever the number of callers.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::CatalogueError;
use crate::iam::eval::Policy;
use crate::iam::policy;
use crate::json;
use crate::source::FileId;

/// The action catalogue, where IAM conditions read it.
pub use crate::iam::actions::{ActionInfo, CATALOGUED_SERVICES, action_info, catalogued_actions, nearest_action};

const CAPABILITIES: &str = include_str!("../rules/capabilities.toml");

/// The facts of each bundled AWS managed policy (version, date, path, source page).
const AWS_MANAGED_INDEX: &str = include_str!("../rules/aws-managed/INDEX.toml");

/// AWS managed policies: (name, default version's document as AWS publishes it). Every
/// entry has its row in `INDEX.toml`; a test checks the folder, the index and this table agree.
const AWS_MANAGED: &[(&str, &str)] = &[
    (
        "AIDevOpsAgentAccessPolicy",
        include_str!("../rules/aws-managed/AIDevOpsAgentAccessPolicy.json"),
    ),
    (
        "AIDevOpsAgentActionsPolicy",
        include_str!("../rules/aws-managed/AIDevOpsAgentActionsPolicy.json"),
    ),
    (
        "AIOpsAssistantPolicy",
        include_str!("../rules/aws-managed/AIOpsAssistantPolicy.json"),
    ),
    (
        "AWSAppFabricFullAccess",
        include_str!("../rules/aws-managed/AWSAppFabricFullAccess.json"),
    ),
    (
        "AWSAppMeshFullAccess",
        include_str!("../rules/aws-managed/AWSAppMeshFullAccess.json"),
    ),
    (
        "AWSAppRunnerFullAccess",
        include_str!("../rules/aws-managed/AWSAppRunnerFullAccess.json"),
    ),
    (
        "AWSAppSyncAdministrator",
        include_str!("../rules/aws-managed/AWSAppSyncAdministrator.json"),
    ),
    (
        "AWSApplicationDiscoveryServiceFullAccess",
        include_str!("../rules/aws-managed/AWSApplicationDiscoveryServiceFullAccess.json"),
    ),
    (
        "AWSApplicationMigrationFSxProxyVPCPolicy",
        include_str!("../rules/aws-managed/AWSApplicationMigrationFSxProxyVPCPolicy.json"),
    ),
    (
        "AWSArtifactAgreementsFullAccess",
        include_str!("../rules/aws-managed/AWSArtifactAgreementsFullAccess.json"),
    ),
    (
        "AWSAuditManagerAdministratorAccess",
        include_str!("../rules/aws-managed/AWSAuditManagerAdministratorAccess.json"),
    ),
    (
        "AWSBackupFullAccess",
        include_str!("../rules/aws-managed/AWSBackupFullAccess.json"),
    ),
    (
        "AWSBatchFullAccess",
        include_str!("../rules/aws-managed/AWSBatchFullAccess.json"),
    ),
    (
        "AWSBatchServiceRole",
        include_str!("../rules/aws-managed/AWSBatchServiceRole.json"),
    ),
    (
        "AWSBugBustFullAccess",
        include_str!("../rules/aws-managed/AWSBugBustFullAccess.json"),
    ),
    (
        "AWSCertificateManagerFullAccess",
        include_str!("../rules/aws-managed/AWSCertificateManagerFullAccess.json"),
    ),
    (
        "AWSCloud9Administrator",
        include_str!("../rules/aws-managed/AWSCloud9Administrator.json"),
    ),
    ("AWSCloud9User", include_str!("../rules/aws-managed/AWSCloud9User.json")),
    (
        "AWSCodeCommitFullAccess",
        include_str!("../rules/aws-managed/AWSCodeCommitFullAccess.json"),
    ),
    (
        "AWSCodeCommitPowerUser",
        include_str!("../rules/aws-managed/AWSCodeCommitPowerUser.json"),
    ),
    (
        "AWSCodeStarServiceRole",
        include_str!("../rules/aws-managed/AWSCodeStarServiceRole.json"),
    ),
    (
        "AWSControlTowerServiceRolePolicy",
        include_str!("../rules/aws-managed/AWSControlTowerServiceRolePolicy.json"),
    ),
    (
        "AWSDataSyncFullAccess",
        include_str!("../rules/aws-managed/AWSDataSyncFullAccess.json"),
    ),
    (
        "AWSDeepRacerServiceRolePolicy",
        include_str!("../rules/aws-managed/AWSDeepRacerServiceRolePolicy.json"),
    ),
    ("AWSDenyAll", include_str!("../rules/aws-managed/AWSDenyAll.json")),
    (
        "AWSElasticBeanstalkRoleCore",
        include_str!("../rules/aws-managed/AWSElasticBeanstalkRoleCore.json"),
    ),
    (
        "AWSFMAdminFullAccess",
        include_str!("../rules/aws-managed/AWSFMAdminFullAccess.json"),
    ),
    (
        "AWSHealthFullAccess",
        include_str!("../rules/aws-managed/AWSHealthFullAccess.json"),
    ),
    (
        "AWSIAMIdentityCenterAllowListForIdentityContext",
        include_str!("../rules/aws-managed/AWSIAMIdentityCenterAllowListForIdentityContext.json"),
    ),
    (
        "AWSIQFullAccess",
        include_str!("../rules/aws-managed/AWSIQFullAccess.json"),
    ),
    (
        "AWSImageBuilderFullAccess",
        include_str!("../rules/aws-managed/AWSImageBuilderFullAccess.json"),
    ),
    (
        "AWSIoTManagedIntegrationsFullAccess",
        include_str!("../rules/aws-managed/AWSIoTManagedIntegrationsFullAccess.json"),
    ),
    (
        "AWSIoTSiteWiseConsoleFullAccess",
        include_str!("../rules/aws-managed/AWSIoTSiteWiseConsoleFullAccess.json"),
    ),
    (
        "AWSIotRoboRunnerFullAccess",
        include_str!("../rules/aws-managed/AWSIotRoboRunnerFullAccess.json"),
    ),
    (
        "AWSLambdaKinesisExecutionRole",
        include_str!("../rules/aws-managed/AWSLambdaKinesisExecutionRole.json"),
    ),
    (
        "AWSLambda_FullAccess",
        include_str!("../rules/aws-managed/AWSLambda_FullAccess.json"),
    ),
    (
        "AWSManagedSettingsAdminAccess",
        include_str!("../rules/aws-managed/AWSManagedSettingsAdminAccess.json"),
    ),
    (
        "AWSMarketplaceSellerFullAccess",
        include_str!("../rules/aws-managed/AWSMarketplaceSellerFullAccess.json"),
    ),
    (
        "AWSMcpServiceActionsFullAccess",
        include_str!("../rules/aws-managed/AWSMcpServiceActionsFullAccess.json"),
    ),
    (
        "AWSMigrationHubFullAccess",
        include_str!("../rules/aws-managed/AWSMigrationHubFullAccess.json"),
    ),
    (
        "AWSMigrationHubOrchestratorConsoleFullAccess",
        include_str!("../rules/aws-managed/AWSMigrationHubOrchestratorConsoleFullAccess.json"),
    ),
    (
        "AWSMigrationHubRefactorSpaces-EnvironmentsWithoutBridgesFullAccess",
        include_str!("../rules/aws-managed/AWSMigrationHubRefactorSpaces-EnvironmentsWithoutBridgesFullAccess.json"),
    ),
    (
        "AWSMigrationHubRefactorSpacesFullAccess",
        include_str!("../rules/aws-managed/AWSMigrationHubRefactorSpacesFullAccess.json"),
    ),
    (
        "AWSMigrationHubStrategyConsoleFullAccess",
        include_str!("../rules/aws-managed/AWSMigrationHubStrategyConsoleFullAccess.json"),
    ),
    (
        "AWSNetworkFirewallFullAccess",
        include_str!("../rules/aws-managed/AWSNetworkFirewallFullAccess.json"),
    ),
    (
        "AWSNetworkManagerFullAccess",
        include_str!("../rules/aws-managed/AWSNetworkManagerFullAccess.json"),
    ),
    (
        "AWSOrganizationsFullAccess",
        include_str!("../rules/aws-managed/AWSOrganizationsFullAccess.json"),
    ),
    (
        "AWSPanoramaFullAccess",
        include_str!("../rules/aws-managed/AWSPanoramaFullAccess.json"),
    ),
    (
        "AWSPrivateMarketplaceAdminFullAccess",
        include_str!("../rules/aws-managed/AWSPrivateMarketplaceAdminFullAccess.json"),
    ),
    (
        "AWSProtonFullAccess",
        include_str!("../rules/aws-managed/AWSProtonFullAccess.json"),
    ),
    (
        "AWSQuickSetupCFGCPacksPermissionsBoundary",
        include_str!("../rules/aws-managed/AWSQuickSetupCFGCPacksPermissionsBoundary.json"),
    ),
    (
        "AWSQuickSetupDeploymentRolePolicy",
        include_str!("../rules/aws-managed/AWSQuickSetupDeploymentRolePolicy.json"),
    ),
    (
        "AWSQuickSetupDevOpsGuruPermissionsBoundary",
        include_str!("../rules/aws-managed/AWSQuickSetupDevOpsGuruPermissionsBoundary.json"),
    ),
    (
        "AWSQuickSetupDistributorPermissionsBoundary",
        include_str!("../rules/aws-managed/AWSQuickSetupDistributorPermissionsBoundary.json"),
    ),
    (
        "AWSQuickSetupEnableAREXExecutionPolicy",
        include_str!("../rules/aws-managed/AWSQuickSetupEnableAREXExecutionPolicy.json"),
    ),
    (
        "AWSQuickSetupManageJITNAResourcesExecutionPolicy",
        include_str!("../rules/aws-managed/AWSQuickSetupManageJITNAResourcesExecutionPolicy.json"),
    ),
    (
        "AWSQuickSetupPatchPolicyDeploymentRolePolicy",
        include_str!("../rules/aws-managed/AWSQuickSetupPatchPolicyDeploymentRolePolicy.json"),
    ),
    (
        "AWSQuickSetupPatchPolicyPermissionsBoundary",
        include_str!("../rules/aws-managed/AWSQuickSetupPatchPolicyPermissionsBoundary.json"),
    ),
    (
        "AWSQuickSetupSSMDeploymentRolePolicy",
        include_str!("../rules/aws-managed/AWSQuickSetupSSMDeploymentRolePolicy.json"),
    ),
    (
        "AWSQuickSetupSSMHostMgmtPermissionsBoundary",
        include_str!("../rules/aws-managed/AWSQuickSetupSSMHostMgmtPermissionsBoundary.json"),
    ),
    (
        "AWSQuickSetupSchedulerPermissionsBoundary",
        include_str!("../rules/aws-managed/AWSQuickSetupSchedulerPermissionsBoundary.json"),
    ),
    (
        "AWSRefactoringToolkitFullAccess",
        include_str!("../rules/aws-managed/AWSRefactoringToolkitFullAccess.json"),
    ),
    (
        "AWSResilienceHubResilienceTestingPolicy",
        include_str!("../rules/aws-managed/AWSResilienceHubResilienceTestingPolicy.json"),
    ),
    (
        "AWSResilienceHubV2AssessmentExecutionPolicy",
        include_str!("../rules/aws-managed/AWSResilienceHubV2AssessmentExecutionPolicy.json"),
    ),
    (
        "AWSResourceExplorerFullAccess",
        include_str!("../rules/aws-managed/AWSResourceExplorerFullAccess.json"),
    ),
    (
        "AWSResourceExplorerOrganizationsAccess",
        include_str!("../rules/aws-managed/AWSResourceExplorerOrganizationsAccess.json"),
    ),
    (
        "AWSResourceGroupsReadOnlyAccess",
        include_str!("../rules/aws-managed/AWSResourceGroupsReadOnlyAccess.json"),
    ),
    (
        "AWSRoboMaker_FullAccess",
        include_str!("../rules/aws-managed/AWSRoboMaker_FullAccess.json"),
    ),
    (
        "AWSRolesAnywhereFullAccess",
        include_str!("../rules/aws-managed/AWSRolesAnywhereFullAccess.json"),
    ),
    (
        "AWSSSOMasterAccountAdministrator",
        include_str!("../rules/aws-managed/AWSSSOMasterAccountAdministrator.json"),
    ),
    (
        "AWSSecurityHubFullAccess",
        include_str!("../rules/aws-managed/AWSSecurityHubFullAccess.json"),
    ),
    (
        "AWSSecurityIncidentResponseFullAccess",
        include_str!("../rules/aws-managed/AWSSecurityIncidentResponseFullAccess.json"),
    ),
    (
        "AWSServiceCatalogAdminFullAccess",
        include_str!("../rules/aws-managed/AWSServiceCatalogAdminFullAccess.json"),
    ),
    (
        "AWSServiceCatalogAppRegistryFullAccess",
        include_str!("../rules/aws-managed/AWSServiceCatalogAppRegistryFullAccess.json"),
    ),
    (
        "AWSSupportAppFullAccess",
        include_str!("../rules/aws-managed/AWSSupportAppFullAccess.json"),
    ),
    (
        "AWSSupportPlansFullAccess",
        include_str!("../rules/aws-managed/AWSSupportPlansFullAccess.json"),
    ),
    (
        "AWSSystemsManagerEnableConfigRecordingExecutionPolicy",
        include_str!("../rules/aws-managed/AWSSystemsManagerEnableConfigRecordingExecutionPolicy.json"),
    ),
    (
        "AWSSystemsManagerEnableExplorerExecutionPolicy",
        include_str!("../rules/aws-managed/AWSSystemsManagerEnableExplorerExecutionPolicy.json"),
    ),
    (
        "AWSSystemsManagerForSAPFullAccess",
        include_str!("../rules/aws-managed/AWSSystemsManagerForSAPFullAccess.json"),
    ),
    (
        "AWSThinkboxAWSPortalAdminPolicy",
        include_str!("../rules/aws-managed/AWSThinkboxAWSPortalAdminPolicy.json"),
    ),
    (
        "AWSThinkboxDeadlineResourceTrackerAdminPolicy",
        include_str!("../rules/aws-managed/AWSThinkboxDeadlineResourceTrackerAdminPolicy.json"),
    ),
    (
        "AWSThinkboxDeadlineSpotEventPluginAdminPolicy",
        include_str!("../rules/aws-managed/AWSThinkboxDeadlineSpotEventPluginAdminPolicy.json"),
    ),
    (
        "AWSTransformApplicationECSDeploymentPolicy",
        include_str!("../rules/aws-managed/AWSTransformApplicationECSDeploymentPolicy.json"),
    ),
    (
        "AWSTransformCustomExecuteTransformations",
        include_str!("../rules/aws-managed/AWSTransformCustomExecuteTransformations.json"),
    ),
    (
        "AWSTransformCustomFullAccess",
        include_str!("../rules/aws-managed/AWSTransformCustomFullAccess.json"),
    ),
    (
        "AWSTransformCustomManageTransformations",
        include_str!("../rules/aws-managed/AWSTransformCustomManageTransformations.json"),
    ),
    (
        "AWSTransformNetworkMigrationAgentPolicy",
        include_str!("../rules/aws-managed/AWSTransformNetworkMigrationAgentPolicy.json"),
    ),
    (
        "AWSTrustedAdvisorPriorityFullAccess",
        include_str!("../rules/aws-managed/AWSTrustedAdvisorPriorityFullAccess.json"),
    ),
    (
        "AWS_ConfigRole",
        include_str!("../rules/aws-managed/AWS_ConfigRole.json"),
    ),
    (
        "AdministratorAccess",
        include_str!("../rules/aws-managed/AdministratorAccess.json"),
    ),
    (
        "AdministratorAccess-AWSElasticBeanstalk",
        include_str!("../rules/aws-managed/AdministratorAccess-AWSElasticBeanstalk.json"),
    ),
    (
        "AdministratorAccess-Amplify",
        include_str!("../rules/aws-managed/AdministratorAccess-Amplify.json"),
    ),
    (
        "AgentRegistryFullAccess",
        include_str!("../rules/aws-managed/AgentRegistryFullAccess.json"),
    ),
    (
        "AlexaForBusinessFullAccess",
        include_str!("../rules/aws-managed/AlexaForBusinessFullAccess.json"),
    ),
    (
        "AmazonAppStreamFullAccess",
        include_str!("../rules/aws-managed/AmazonAppStreamFullAccess.json"),
    ),
    (
        "AmazonAuroraDSQLConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonAuroraDSQLConsoleFullAccess.json"),
    ),
    (
        "AmazonAuroraDSQLFullAccess",
        include_str!("../rules/aws-managed/AmazonAuroraDSQLFullAccess.json"),
    ),
    (
        "AmazonBraketFullAccess",
        include_str!("../rules/aws-managed/AmazonBraketFullAccess.json"),
    ),
    (
        "AmazonChimeFullAccess",
        include_str!("../rules/aws-managed/AmazonChimeFullAccess.json"),
    ),
    (
        "AmazonCloudWatchRUMFullAccess",
        include_str!("../rules/aws-managed/AmazonCloudWatchRUMFullAccess.json"),
    ),
    (
        "AmazonCodeGuruProfilerFullAccess",
        include_str!("../rules/aws-managed/AmazonCodeGuruProfilerFullAccess.json"),
    ),
    (
        "AmazonCodeGuruReviewerFullAccess",
        include_str!("../rules/aws-managed/AmazonCodeGuruReviewerFullAccess.json"),
    ),
    (
        "AmazonCognitoPowerUser",
        include_str!("../rules/aws-managed/AmazonCognitoPowerUser.json"),
    ),
    (
        "AmazonConnect_FullAccess",
        include_str!("../rules/aws-managed/AmazonConnect_FullAccess.json"),
    ),
    (
        "AmazonDataZoneEnvironmentRolePermissionsBoundary",
        include_str!("../rules/aws-managed/AmazonDataZoneEnvironmentRolePermissionsBoundary.json"),
    ),
    (
        "AmazonDataZoneProjectDeploymentPermissionsBoundary",
        include_str!("../rules/aws-managed/AmazonDataZoneProjectDeploymentPermissionsBoundary.json"),
    ),
    (
        "AmazonDataZoneProjectRolePermissionsBoundary",
        include_str!("../rules/aws-managed/AmazonDataZoneProjectRolePermissionsBoundary.json"),
    ),
    (
        "AmazonDataZoneSageMakerEnvironmentRolePermissionsBoundary",
        include_str!("../rules/aws-managed/AmazonDataZoneSageMakerEnvironmentRolePermissionsBoundary.json"),
    ),
    (
        "AmazonDataZoneSageMakerProvisioningRolePolicy",
        include_str!("../rules/aws-managed/AmazonDataZoneSageMakerProvisioningRolePolicy.json"),
    ),
    (
        "AmazonDetectiveOrganizationsAccess",
        include_str!("../rules/aws-managed/AmazonDetectiveOrganizationsAccess.json"),
    ),
    (
        "AmazonDevOpsGuruConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonDevOpsGuruConsoleFullAccess.json"),
    ),
    (
        "AmazonDevOpsGuruFullAccess",
        include_str!("../rules/aws-managed/AmazonDevOpsGuruFullAccess.json"),
    ),
    (
        "AmazonDocDBConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonDocDBConsoleFullAccess.json"),
    ),
    (
        "AmazonDocDBElasticFullAccess",
        include_str!("../rules/aws-managed/AmazonDocDBElasticFullAccess.json"),
    ),
    (
        "AmazonDocDBFullAccess",
        include_str!("../rules/aws-managed/AmazonDocDBFullAccess.json"),
    ),
    (
        "AmazonDynamoDBFullAccess",
        include_str!("../rules/aws-managed/AmazonDynamoDBFullAccess.json"),
    ),
    (
        "AmazonDynamoDBFullAccess_v2",
        include_str!("../rules/aws-managed/AmazonDynamoDBFullAccess_v2.json"),
    ),
    (
        "AmazonDynamoDBFullAccesswithDataPipeline",
        include_str!("../rules/aws-managed/AmazonDynamoDBFullAccesswithDataPipeline.json"),
    ),
    (
        "AmazonDynamoDBReadOnlyAccess",
        include_str!("../rules/aws-managed/AmazonDynamoDBReadOnlyAccess.json"),
    ),
    (
        "AmazonEC2ContainerRegistryFullAccess",
        include_str!("../rules/aws-managed/AmazonEC2ContainerRegistryFullAccess.json"),
    ),
    (
        "AmazonEC2FullAccess",
        include_str!("../rules/aws-managed/AmazonEC2FullAccess.json"),
    ),
    (
        "AmazonEC2RoleforDataPipelineRole",
        include_str!("../rules/aws-managed/AmazonEC2RoleforDataPipelineRole.json"),
    ),
    (
        "AmazonEC2SpotFleetAutoscaleRole",
        include_str!("../rules/aws-managed/AmazonEC2SpotFleetAutoscaleRole.json"),
    ),
    (
        "AmazonECSInfrastructureRolePolicyForManagedInstances",
        include_str!("../rules/aws-managed/AmazonECSInfrastructureRolePolicyForManagedInstances.json"),
    ),
    (
        "AmazonECSInfrastructureRoleforExpressGatewayServices",
        include_str!("../rules/aws-managed/AmazonECSInfrastructureRoleforExpressGatewayServices.json"),
    ),
    (
        "AmazonECS_FullAccess",
        include_str!("../rules/aws-managed/AmazonECS_FullAccess.json"),
    ),
    (
        "AmazonEKSClusterPolicy",
        include_str!("../rules/aws-managed/AmazonEKSClusterPolicy.json"),
    ),
    (
        "AmazonEKSComputePolicy",
        include_str!("../rules/aws-managed/AmazonEKSComputePolicy.json"),
    ),
    (
        "AmazonEKSLoadBalancingPolicy",
        include_str!("../rules/aws-managed/AmazonEKSLoadBalancingPolicy.json"),
    ),
    (
        "AmazonEKSServicePolicy",
        include_str!("../rules/aws-managed/AmazonEKSServicePolicy.json"),
    ),
    (
        "AmazonEMRFullAccessPolicy_v2",
        include_str!("../rules/aws-managed/AmazonEMRFullAccessPolicy_v2.json"),
    ),
    (
        "AmazonEMRServicePolicyForSessions",
        include_str!("../rules/aws-managed/AmazonEMRServicePolicyForSessions.json"),
    ),
    (
        "AmazonElastiCacheFullAccess",
        include_str!("../rules/aws-managed/AmazonElastiCacheFullAccess.json"),
    ),
    (
        "AmazonElasticFileSystemFullAccess",
        include_str!("../rules/aws-managed/AmazonElasticFileSystemFullAccess.json"),
    ),
    (
        "AmazonElasticMapReduceFullAccess",
        include_str!("../rules/aws-managed/AmazonElasticMapReduceFullAccess.json"),
    ),
    (
        "AmazonElasticMapReduceRole",
        include_str!("../rules/aws-managed/AmazonElasticMapReduceRole.json"),
    ),
    (
        "AmazonElasticMapReduceforEC2Role",
        include_str!("../rules/aws-managed/AmazonElasticMapReduceforEC2Role.json"),
    ),
    (
        "AmazonEventBridgeFullAccess",
        include_str!("../rules/aws-managed/AmazonEventBridgeFullAccess.json"),
    ),
    (
        "AmazonEventBridgeSchemasFullAccess",
        include_str!("../rules/aws-managed/AmazonEventBridgeSchemasFullAccess.json"),
    ),
    (
        "AmazonFSxConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonFSxConsoleFullAccess.json"),
    ),
    (
        "AmazonFSxFullAccess",
        include_str!("../rules/aws-managed/AmazonFSxFullAccess.json"),
    ),
    (
        "AmazonGuardDutyFullAccess",
        include_str!("../rules/aws-managed/AmazonGuardDutyFullAccess.json"),
    ),
    (
        "AmazonGuardDutyFullAccess_v2",
        include_str!("../rules/aws-managed/AmazonGuardDutyFullAccess_v2.json"),
    ),
    (
        "AmazonInspector2FullAccess",
        include_str!("../rules/aws-managed/AmazonInspector2FullAccess.json"),
    ),
    (
        "AmazonInspector2FullAccess_v2",
        include_str!("../rules/aws-managed/AmazonInspector2FullAccess_v2.json"),
    ),
    (
        "AmazonInspectorFullAccess",
        include_str!("../rules/aws-managed/AmazonInspectorFullAccess.json"),
    ),
    (
        "AmazonKeyspacesFullAccess",
        include_str!("../rules/aws-managed/AmazonKeyspacesFullAccess.json"),
    ),
    (
        "AmazonKinesisAnalyticsFullAccess",
        include_str!("../rules/aws-managed/AmazonKinesisAnalyticsFullAccess.json"),
    ),
    (
        "AmazonKinesisAnalyticsReadOnly",
        include_str!("../rules/aws-managed/AmazonKinesisAnalyticsReadOnly.json"),
    ),
    (
        "AmazonKinesisFullAccess",
        include_str!("../rules/aws-managed/AmazonKinesisFullAccess.json"),
    ),
    (
        "AmazonKinesisReadOnlyAccess",
        include_str!("../rules/aws-managed/AmazonKinesisReadOnlyAccess.json"),
    ),
    (
        "AmazonLaunchWizardFullAccessV2",
        include_str!("../rules/aws-managed/AmazonLaunchWizardFullAccessV2.json"),
    ),
    (
        "AmazonLaunchWizard_Fullaccess",
        include_str!("../rules/aws-managed/AmazonLaunchWizard_Fullaccess.json"),
    ),
    (
        "AmazonLexFullAccess",
        include_str!("../rules/aws-managed/AmazonLexFullAccess.json"),
    ),
    (
        "AmazonMCSFullAccess",
        include_str!("../rules/aws-managed/AmazonMCSFullAccess.json"),
    ),
    (
        "AmazonMQApiFullAccess",
        include_str!("../rules/aws-managed/AmazonMQApiFullAccess.json"),
    ),
    (
        "AmazonMQFullAccess",
        include_str!("../rules/aws-managed/AmazonMQFullAccess.json"),
    ),
    (
        "AmazonMSKFullAccess",
        include_str!("../rules/aws-managed/AmazonMSKFullAccess.json"),
    ),
    (
        "AmazonMacieFullAccess",
        include_str!("../rules/aws-managed/AmazonMacieFullAccess.json"),
    ),
    (
        "AmazonMacieHandshakeRole",
        include_str!("../rules/aws-managed/AmazonMacieHandshakeRole.json"),
    ),
    (
        "AmazonMemoryDBFullAccess",
        include_str!("../rules/aws-managed/AmazonMemoryDBFullAccess.json"),
    ),
    (
        "AmazonMonitronFullAccess",
        include_str!("../rules/aws-managed/AmazonMonitronFullAccess.json"),
    ),
    (
        "AmazonODBExadataInfrastructureAdmin",
        include_str!("../rules/aws-managed/AmazonODBExadataInfrastructureAdmin.json"),
    ),
    (
        "AmazonODBFullAccess",
        include_str!("../rules/aws-managed/AmazonODBFullAccess.json"),
    ),
    (
        "AmazonODBNetworkAdmin",
        include_str!("../rules/aws-managed/AmazonODBNetworkAdmin.json"),
    ),
    (
        "AmazonOpenSearchIngestionFullAccess",
        include_str!("../rules/aws-managed/AmazonOpenSearchIngestionFullAccess.json"),
    ),
    (
        "AmazonPrometheusFullAccess",
        include_str!("../rules/aws-managed/AmazonPrometheusFullAccess.json"),
    ),
    (
        "AmazonQLDBConsoleFullAccess",
        include_str!("../rules/aws-managed/AmazonQLDBConsoleFullAccess.json"),
    ),
    (
        "AmazonRDSFullAccess",
        include_str!("../rules/aws-managed/AmazonRDSFullAccess.json"),
    ),
    (
        "AmazonRedshiftDataFullAccess",
        include_str!("../rules/aws-managed/AmazonRedshiftDataFullAccess.json"),
    ),
    (
        "AmazonRedshiftFullAccess",
        include_str!("../rules/aws-managed/AmazonRedshiftFullAccess.json"),
    ),
    (
        "AmazonRekognitionServiceRole",
        include_str!("../rules/aws-managed/AmazonRekognitionServiceRole.json"),
    ),
    (
        "AmazonSSMFullAccess",
        include_str!("../rules/aws-managed/AmazonSSMFullAccess.json"),
    ),
    (
        "AmazonSageMakerCanvasFullAccess",
        include_str!("../rules/aws-managed/AmazonSageMakerCanvasFullAccess.json"),
    ),
    (
        "AmazonSageMakerFullAccess",
        include_str!("../rules/aws-managed/AmazonSageMakerFullAccess.json"),
    ),
    (
        "AmazonSecurityLakeAdministrator",
        include_str!("../rules/aws-managed/AmazonSecurityLakeAdministrator.json"),
    ),
    (
        "AmazonSecurityLakePermissionsBoundary",
        include_str!("../rules/aws-managed/AmazonSecurityLakePermissionsBoundary.json"),
    ),
    (
        "AmazonTimestreamInfluxDBFullAccess",
        include_str!("../rules/aws-managed/AmazonTimestreamInfluxDBFullAccess.json"),
    ),
    (
        "AmazonTimestreamInfluxDBFullAccessWithoutMarketplaceAccess",
        include_str!("../rules/aws-managed/AmazonTimestreamInfluxDBFullAccessWithoutMarketplaceAccess.json"),
    ),
    (
        "AmazonWorkMailFullAccess",
        include_str!("../rules/aws-managed/AmazonWorkMailFullAccess.json"),
    ),
    (
        "AmazonWorkSpacesSecureBrowserReadOnly",
        include_str!("../rules/aws-managed/AmazonWorkSpacesSecureBrowserReadOnly.json"),
    ),
    (
        "AmazonWorkSpacesThinClientFullAccess",
        include_str!("../rules/aws-managed/AmazonWorkSpacesThinClientFullAccess.json"),
    ),
    (
        "AmazonWorkSpacesWebReadOnly",
        include_str!("../rules/aws-managed/AmazonWorkSpacesWebReadOnly.json"),
    ),
    (
        "AutoScalingConsoleFullAccess",
        include_str!("../rules/aws-managed/AutoScalingConsoleFullAccess.json"),
    ),
    (
        "AutoScalingFullAccess",
        include_str!("../rules/aws-managed/AutoScalingFullAccess.json"),
    ),
    (
        "BedrockAgentCoreFullAccess",
        include_str!("../rules/aws-managed/BedrockAgentCoreFullAccess.json"),
    ),
    (
        "BedrockAgentCoreRuntimeInstancesOperatorRolePolicy",
        include_str!("../rules/aws-managed/BedrockAgentCoreRuntimeInstancesOperatorRolePolicy.json"),
    ),
    (
        "CloudFrontFullAccess",
        include_str!("../rules/aws-managed/CloudFrontFullAccess.json"),
    ),
    (
        "CloudWatchApplicationInsightsFullAccess",
        include_str!("../rules/aws-managed/CloudWatchApplicationInsightsFullAccess.json"),
    ),
    (
        "CloudWatchApplicationSignalsFullAccess",
        include_str!("../rules/aws-managed/CloudWatchApplicationSignalsFullAccess.json"),
    ),
    (
        "CloudWatchAutomaticDashboardsAccess",
        include_str!("../rules/aws-managed/CloudWatchAutomaticDashboardsAccess.json"),
    ),
    (
        "CloudWatchEventsFullAccess",
        include_str!("../rules/aws-managed/CloudWatchEventsFullAccess.json"),
    ),
    (
        "CloudWatchFullAccess",
        include_str!("../rules/aws-managed/CloudWatchFullAccess.json"),
    ),
    (
        "CloudWatchFullAccessV2",
        include_str!("../rules/aws-managed/CloudWatchFullAccessV2.json"),
    ),
    (
        "CloudWatchInternetMonitorFullAccess",
        include_str!("../rules/aws-managed/CloudWatchInternetMonitorFullAccess.json"),
    ),
    (
        "CloudWatchOpenSearchDashboardsFullAccess",
        include_str!("../rules/aws-managed/CloudWatchOpenSearchDashboardsFullAccess.json"),
    ),
    (
        "CostOptimizationHubAdminAccess",
        include_str!("../rules/aws-managed/CostOptimizationHubAdminAccess.json"),
    ),
    (
        "DBModProvisioningAndMigration",
        include_str!("../rules/aws-managed/DBModProvisioningAndMigration.json"),
    ),
    (
        "DBModVirtualSource",
        include_str!("../rules/aws-managed/DBModVirtualSource.json"),
    ),
    ("DataScientist", include_str!("../rules/aws-managed/DataScientist.json")),
    (
        "DatabaseAdministrator",
        include_str!("../rules/aws-managed/DatabaseAdministrator.json"),
    ),
    (
        "DynamoDBKinesisReplicationServiceRolePolicy",
        include_str!("../rules/aws-managed/DynamoDBKinesisReplicationServiceRolePolicy.json"),
    ),
    (
        "EC2FastLaunchFullAccess",
        include_str!("../rules/aws-managed/EC2FastLaunchFullAccess.json"),
    ),
    (
        "EC2ImageBuilderExecutionPolicy",
        include_str!("../rules/aws-managed/EC2ImageBuilderExecutionPolicy.json"),
    ),
    (
        "ElasticLoadBalancingFullAccess",
        include_str!("../rules/aws-managed/ElasticLoadBalancingFullAccess.json"),
    ),
    (
        "GlobalAcceleratorFullAccess",
        include_str!("../rules/aws-managed/GlobalAcceleratorFullAccess.json"),
    ),
    (
        "IAMAccessAnalyzerFullAccess",
        include_str!("../rules/aws-managed/IAMAccessAnalyzerFullAccess.json"),
    ),
    (
        "IAMAuditRootUserCredentials",
        include_str!("../rules/aws-managed/IAMAuditRootUserCredentials.json"),
    ),
    (
        "IAMCreateRootUserPassword",
        include_str!("../rules/aws-managed/IAMCreateRootUserPassword.json"),
    ),
    (
        "IAMDeleteRootUserCredentials",
        include_str!("../rules/aws-managed/IAMDeleteRootUserCredentials.json"),
    ),
    ("IAMFullAccess", include_str!("../rules/aws-managed/IAMFullAccess.json")),
    (
        "NeptuneConsoleFullAccess",
        include_str!("../rules/aws-managed/NeptuneConsoleFullAccess.json"),
    ),
    (
        "NeptuneFullAccess",
        include_str!("../rules/aws-managed/NeptuneFullAccess.json"),
    ),
    (
        "NetworkAdministrator",
        include_str!("../rules/aws-managed/NetworkAdministrator.json"),
    ),
    (
        "PowerUserAccess",
        include_str!("../rules/aws-managed/PowerUserAccess.json"),
    ),
    (
        "ROSANodePoolManagementPolicy",
        include_str!("../rules/aws-managed/ROSANodePoolManagementPolicy.json"),
    ),
    (
        "ReadOnlyAccess",
        include_str!("../rules/aws-managed/ReadOnlyAccess.json"),
    ),
    (
        "S3UnlockBucketPolicy",
        include_str!("../rules/aws-managed/S3UnlockBucketPolicy.json"),
    ),
    (
        "SQSUnlockQueuePolicy",
        include_str!("../rules/aws-managed/SQSUnlockQueuePolicy.json"),
    ),
    (
        "SageMakerStudioAdminIAMDefaultExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioAdminIAMDefaultExecutionPolicy.json"),
    ),
    (
        "SageMakerStudioAdminIAMPermissiveExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioAdminIAMPermissiveExecutionPolicy.json"),
    ),
    (
        "SageMakerStudioProjectProvisioningRolePolicy",
        include_str!("../rules/aws-managed/SageMakerStudioProjectProvisioningRolePolicy.json"),
    ),
    (
        "SageMakerStudioProjectRoleMachineLearningPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioProjectRoleMachineLearningPolicy.json"),
    ),
    (
        "SageMakerStudioProjectUserRolePermissionsBoundary",
        include_str!("../rules/aws-managed/SageMakerStudioProjectUserRolePermissionsBoundary.json"),
    ),
    (
        "SageMakerStudioUserIAMDefaultExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioUserIAMDefaultExecutionPolicy.json"),
    ),
    (
        "SageMakerStudioUserIAMPermissiveExecutionPolicy",
        include_str!("../rules/aws-managed/SageMakerStudioUserIAMPermissiveExecutionPolicy.json"),
    ),
    ("SecurityAudit", include_str!("../rules/aws-managed/SecurityAudit.json")),
    (
        "ServerMigrationServiceConsoleFullAccess",
        include_str!("../rules/aws-managed/ServerMigrationServiceConsoleFullAccess.json"),
    ),
    (
        "ServerMigrationServiceLaunchRole",
        include_str!("../rules/aws-managed/ServerMigrationServiceLaunchRole.json"),
    ),
    (
        "ServiceQuotasFullAccess",
        include_str!("../rules/aws-managed/ServiceQuotasFullAccess.json"),
    ),
    ("SupportUser", include_str!("../rules/aws-managed/SupportUser.json")),
    (
        "SystemAdministrator",
        include_str!("../rules/aws-managed/SystemAdministrator.json"),
    ),
    (
        "VPCLatticeFullAccess",
        include_str!("../rules/aws-managed/VPCLatticeFullAccess.json"),
    ),
    (
        "ViewOnlyAccess",
        include_str!("../rules/aws-managed/ViewOnlyAccess.json"),
    ),
    (
        "WellArchitectedAgentResourceScanning",
        include_str!("../rules/aws-managed/WellArchitectedAgentResourceScanning.json"),
    ),
    (
        "WellArchitectedConsoleFullAccess",
        include_str!("../rules/aws-managed/WellArchitectedConsoleFullAccess.json"),
    ),
    (
        "WorkLinkServiceRolePolicy",
        include_str!("../rules/aws-managed/WorkLinkServiceRolePolicy.json"),
    ),
];

/// Where a requirement is evaluated.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum On {
    Table,
    Any,
    Stream,
    Slr,
    /// Another service's service-linked role (a probe for KDS003).
    #[serde(rename = "other-slr")]
    OtherSlr,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Table,
    Slr,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub action: String,
    pub on: On,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    pub id: String,
    pub target: TargetKind,
    /// A probe that rules read but reports do not list.
    #[serde(default)]
    pub internal: bool,
    pub summary: String,
    /// Whether it switches replication on or off, changes it, or deletes the role it runs
    /// as: what the GitHub summary, the indirect holders in words, KDS013 and KDS015's
    /// level single out.
    #[serde(default)]
    pub manages: bool,
    /// What it lets a principal do, as the PR delta says it, before the tables (or the
    /// role's name): `disable replication on`.
    #[serde(default)]
    pub words: Option<String>,
    pub requirements: Vec<Requirement>,
}

impl Capability {
    pub fn primary(&self) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.primary)
    }

    /// Whether it is about the account's service-linked role (its target is the SLR), not
    /// about tables.
    pub(crate) fn about_slr(&self) -> bool {
        self.target == TargetKind::Slr
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlrFacts {
    pub name: String,
    pub path: String,
    pub service: String,
}

/// A capability: an index into a catalogue's capabilities (the run's own catalogue,
/// [`crate::settings::Config::capabilities`], which the decisions follow).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CapId(pub u16);

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    pub slr: SlrFacts,
    #[serde(rename = "capability")]
    pub capabilities: Vec<Capability>,
}

impl Capabilities {
    /// The capability named `id`.
    pub fn get(&self, id: &str) -> Option<&Capability> {
        self.capabilities.iter().find(|c| c.id == id)
    }

    /// The id of the capability named `name`.
    pub fn id(&self, name: &str) -> Option<CapId> {
        id_in(&self.capabilities, name)
    }

    /// The capabilities reports list and users name (in the config's guardrails, in
    /// queries): all but the internal probes, in catalogue order.
    pub fn reported(&self) -> impl Iterator<Item = &Capability> {
        self.capabilities.iter().filter(|c| !c.internal)
    }
}

/// The id of the capability named `name` among `capabilities` (a catalogue's list, or the
/// copy the decisions keep).
pub(crate) fn id_in(capabilities: &[Capability], name: &str) -> Option<CapId> {
    let k = capabilities.iter().position(|c| c.id == name)?;
    u16::try_from(k).ok().map(CapId)
}

/// The built-in capability definitions.
pub fn capabilities() -> Result<Capabilities, CatalogueError> {
    parse_capabilities("rules/capabilities.toml", CAPABILITIES)
}

/// Capability definitions in the format of `rules/capabilities.toml` (`display` names the
/// text in errors), for a run that analyses with a catalogue of its own
/// (`Config::capabilities`).
pub fn parse_capabilities(display: &str, text: &str) -> Result<Capabilities, CatalogueError> {
    let caps: Capabilities = toml::from_str(text).map_err(|error| CatalogueError::Syntax {
        display: display.to_string(),
        error,
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for c in &caps.capabilities {
        if !seen.insert(c.id.as_str()) {
            return Err(CatalogueError::DefinedTwice {
                display: display.to_string(),
                id: c.id.clone(),
            });
        }
        // Rules and reports name a capability's grant by its primary action (KDS006, the
        // partial-grant findings): one, never a guess.
        let primaries = c.requirements.iter().filter(|r| r.primary).count();
        if primaries != 1 {
            return Err(CatalogueError::Primaries {
                display: display.to_string(),
                id: c.id.clone(),
                primaries,
            });
        }
    }
    Ok(caps)
}

/// What `rules/aws-managed/INDEX.toml` says of one bundled AWS managed policy.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedPolicyFacts {
    /// Policy name: the last segment of its ARN, and the catalogue's key.
    pub name: String,
    /// IAM path, `/` or e.g. `/service-role/`.
    pub path: String,
    /// The default version id, e.g. `v15`.
    pub version: String,
    /// When that version was published (`YYYY-MM-DD`, UTC).
    pub date: String,
    /// When the policy was created (`YYYY-MM-DD`, UTC).
    pub created: String,
    /// Title of the AWS page the document is from.
    pub source: String,
}

impl ManagedPolicyFacts {
    /// The policy's ARN in the `aws` partition.
    pub fn arn(&self) -> String {
        managed_arn(&self.path, &self.name)
    }
}

/// The facts of every bundled AWS managed policy, in `INDEX.toml` order.
pub fn aws_managed_facts() -> &'static [ManagedPolicyFacts] {
    static FACTS: OnceLock<Vec<ManagedPolicyFacts>> = OnceLock::new();
    FACTS.get_or_init(|| parse_managed_index().unwrap_or_default())
}

/// The names of the bundled AWS managed policies, in `INDEX.toml` order.
pub fn aws_managed_names() -> impl Iterator<Item = &'static str> {
    AWS_MANAGED.iter().map(|(name, _)| *name)
}

/// The bundled document of the AWS managed policy named `name`, compiled the first time a
/// process asks for it (most runs attach a handful of the catalogue's policies; compiling
/// all of them took as long as linking a 1,000-principal estate). Its address is its ARN
/// (with its path, e.g. `arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole`).
pub fn aws_managed_document(name: &str) -> Option<&'static Policy> {
    static BY_NAME: OnceLock<std::collections::HashMap<&'static str, usize>> = OnceLock::new();
    static COMPILED: OnceLock<Vec<OnceLock<Option<Policy>>>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| AWS_MANAGED.iter().enumerate().map(|(k, (n, _))| (*n, k)).collect());
    let k = *by_name.get(name)?;
    let cells = COMPILED.get_or_init(|| AWS_MANAGED.iter().map(|_| OnceLock::new()).collect());
    cells.get(k)?.get_or_init(|| compile_managed(name)).as_ref()
}

/// The partition the catalogue names AWS managed policies in.
const MANAGED_PARTITION: &str = "aws";

/// The ARN of the AWS managed policy `name` at IAM path `path` (`/` or `/service-role/`), in
/// the catalogue's partition.
fn managed_arn(path: &str, name: &str) -> String {
    crate::iam::arn::aws_managed_policy_in(
        crate::iam::arn::Segment::Lit(MANAGED_PARTITION),
        &format!("{path}{name}"),
    )
    .to_string()
}

const NO_REPLICATION_ACCESS: &str = include_str!("../rules/aws-managed/NO_REPLICATION_ACCESS.toml");

#[derive(Deserialize)]
struct NoAccessFile {
    policy: Vec<NoAccessRow>,
}

#[derive(Deserialize)]
struct NoAccessRow {
    name: String,
    path: String,
}

/// AWS managed policies known to contain no statement that covers any capability's action
/// (`rules/aws-managed/NO_REPLICATION_ACCESS.toml`): name → ARN (`aws` partition).
pub fn aws_managed_without_access() -> &'static BTreeMap<String, String> {
    static NONE: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    NONE.get_or_init(|| {
        without_access_paths()
            .iter()
            .map(|(name, path)| (name.clone(), managed_arn(path, name)))
            .collect()
    })
}

/// The policies of `NO_REPLICATION_ACCESS.toml`: name → IAM path.
fn without_access_paths() -> &'static BTreeMap<String, String> {
    static PATHS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        toml::from_str::<NoAccessFile>(NO_REPLICATION_ACCESS)
            .map(|f| f.policy.into_iter().map(|r| (r.name, r.path)).collect())
            .unwrap_or_default()
    })
}

/// An AWS managed policy the catalogue knows by name (bundled, or known to hold no
/// replication access).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct KnownManagedPolicy {
    pub name: &'static str,
    /// IAM path, `/` or e.g. `/service-role/`.
    pub path: &'static str,
    /// The bundled document's JSON text; `None` for a policy of
    /// `NO_REPLICATION_ACCESS.toml` (known to cover no capability action).
    pub document: Option<&'static str>,
}

/// The AWS managed policy named `name`, when the catalogue knows it.
pub(crate) fn aws_managed_policy(name: &str) -> Option<KnownManagedPolicy> {
    if let Some((n, text)) = AWS_MANAGED.iter().find(|(n, _)| *n == name) {
        let path = aws_managed_facts()
            .iter()
            .find(|f| f.name == *n)
            .map_or("/", |f| f.path.as_str());
        return Some(KnownManagedPolicy {
            name: n,
            path,
            document: Some(text),
        });
    }
    let (n, path) = without_access_paths().get_key_value(name)?;
    Some(KnownManagedPolicy {
        name: n,
        path,
        document: None,
    })
}

// ---------------------------------------------------------------------------------------
// Helpers.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManagedIndex {
    policy: Vec<ManagedPolicyFacts>,
}

fn parse_managed_index() -> Result<Vec<ManagedPolicyFacts>, toml::de::Error> {
    toml::from_str::<ManagedIndex>(AWS_MANAGED_INDEX).map(|i| i.policy)
}

/// A bundled AWS managed policy's document, compiled, its address its ARN.
fn compile_managed(name: &str) -> Option<Policy> {
    let known = aws_managed_policy(name)?;
    let v = json::parse(known.document?, FileId::BUILTIN, 0).ok()?;
    Some(Policy::new(managed_arn(known.path, known.name), policy::parse(&v).0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capability's id indexes the catalogue's list, and names that are not there have none.
    #[test]
    fn capability_ids_index_the_catalogue() {
        let caps = capabilities().unwrap_or_else(|e| unreachable!("{e}"));
        for name in ["enable", "disable", "delete-slr"] {
            let id = caps.id(name).unwrap_or_else(|| unreachable!("{name}"));
            assert_eq!(caps.capabilities[usize::from(id.0)].id, name);
        }
        assert_eq!(caps.id("inspect"), None);
    }

    #[test]
    fn a_catalogue_of_its_own_needs_unique_ids_and_one_primary_action_each() {
        let bundled = CAPABILITIES;
        // The bundled text with its first capability's primary mark dropped.
        let no_primary = bundled.replacen(", primary = true", "", 1);
        let err = parse_capabilities("mine.toml", &no_primary)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err(
                "mine.toml: capability `enable` has 0 requirements marked `primary = true`; it needs exactly one"
                    .to_string()
            )
        );
        let twice = format!(
            "{bundled}\n[[capability]]\nid = \"describe\"\ntarget = \"table\"\nsummary = \"again\"\nrequirements = [{{ action = \"dynamodb:DescribeTable\", on = \"table\", primary = true }}]\n"
        );
        assert_eq!(
            parse_capabilities("mine.toml", &twice)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err("mine.toml: capability `describe` is defined twice".to_string())
        );
        assert!(parse_capabilities("mine.toml", bundled).is_ok());
    }

    #[test]
    fn capability_data_matches_the_spec() {
        let caps = capabilities().unwrap_or_else(|e| unreachable!("{e}"));
        let ids: Vec<_> = caps
            .capabilities
            .iter()
            .filter(|c| !c.internal)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["enable", "describe", "disable", "update", "create-slr", "delete-slr"]
        );
        // Internal probes come after the reported capabilities, so indexes below hold.
        assert!(caps.capabilities.iter().skip(ids.len()).all(|c| c.internal));
        let enable = &caps.capabilities[0];
        let actions: Vec<_> = enable.requirements.iter().map(|r| (r.action.as_str(), r.on)).collect();
        assert_eq!(
            actions,
            [
                ("dynamodb:EnableKinesisStreamingDestination", On::Table),
                ("kinesis:ListStreams", On::Any),
                ("kinesis:PutRecords", On::Stream),
                ("kinesis:DescribeStream", On::Stream),
            ]
        );
        assert_eq!(caps.slr.name, "AWSServiceRoleForDynamoDBKinesisDataStreamsReplication");
        for c in &caps.capabilities {
            assert_eq!(c.requirements.iter().filter(|r| r.primary).count(), 1, "{}", c.id);
        }
        let create = &caps.capabilities[4];
        assert_eq!(
            create.requirements[0]
                .context
                .get("iam:AWSServiceName")
                .map(String::as_str),
            Some("kinesisreplication.dynamodb.amazonaws.com")
        );
    }

    #[test]
    fn managed_policies_are_found_by_name_with_their_path() {
        let ddb = aws_managed_policy("AmazonDynamoDBFullAccess");
        assert!(ddb.is_some_and(|p| p.path == "/" && p.document.is_some()), "{ddb:?}");
        let basic = aws_managed_policy("AWSLambdaBasicExecutionRole");
        assert!(
            basic.is_some_and(|p| p.path == "/service-role/" && p.document.is_none()),
            "{basic:?}"
        );
        assert_eq!(aws_managed_policy("NotAnAwsManagedPolicy"), None);
    }

    #[test]
    fn every_bundled_managed_policy_parses() {
        for (name, _) in AWS_MANAGED {
            let p = aws_managed_document(name).unwrap_or_else(|| unreachable!("{name} does not compile"));
            assert!(!p.document.statements.is_empty(), "{}", p.address);
            assert!(p.document.unknown.is_none(), "{}", p.address);
        }
        for (name, text) in AWS_MANAGED {
            let v = json::parse(text, FileId::BUILTIN, 0).unwrap_or_else(|e| unreachable!("{name}: {e:?}"));
            let (_, diags) = policy::parse(&v);
            assert!(diags.is_empty(), "{name}: {diags:?}");
        }
    }

    #[test]
    fn managed_index_and_table_agree() {
        let facts = parse_managed_index().unwrap_or_else(|e| unreachable!("rules/aws-managed/INDEX.toml: {e}"));
        let indexed: Vec<_> = facts.iter().map(|f| f.name.as_str()).collect();
        let table: Vec<_> = AWS_MANAGED.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            indexed, table,
            "INDEX.toml and AWS_MANAGED list the same policies in the same order"
        );
        for f in &facts {
            assert!(
                f.path.starts_with('/') && f.path.ends_with('/'),
                "{}: path {}",
                f.name,
                f.path
            );
            assert!(f.version.starts_with('v'), "{}: version {}", f.name, f.version);
            assert_eq!(f.date.len(), 10, "{}: date {}", f.name, f.date);
            assert!(f.created <= f.date, "{}", f.name);
            assert_eq!(f.source, format!("{} - AWS Managed Policy", f.name));
        }
        let lambda = aws_managed_document("AWSLambdaKinesisExecutionRole").map(|p| &*p.address);
        assert_eq!(
            lambda,
            Some("arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole")
        );
        let admin = aws_managed_document("AdministratorAccess").map(|p| &*p.address);
        assert!(aws_managed_document("NotAnAwsManagedPolicy").is_none());
        assert_eq!(admin, Some("arn:aws:iam::aws:policy/AdministratorAccess"));
    }
}

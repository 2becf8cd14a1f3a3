//! kdsguard: who can enable, change or disable Kinesis Data Streams replication of
//! DynamoDB tables, and who can delete its service-linked role, read statically from
//! Terraform and CloudFormation.

pub mod load;
pub mod model;
pub mod source;
pub mod value;

{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:${partition}:iam::${account_id}:root"
      },
      "Action": "sts:AssumeRole"
    }

    %{ if oidc_provider_arn != "" }
    ,{
      "Effect": "Allow",
      "Principal": {
        "Federated": "${oidc_provider_arn}"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "app.terraform.io:aud": "aws.workload.identity"
        }
      }
    }
    %{ endif }
  ]
}

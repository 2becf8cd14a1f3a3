{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Resource": "arn:${partition}:iam::*:role/AWSAFTAdmin"
    }
    %{ if oidc_provider_arn != "" }
    ,{
      "Effect": "Allow",
      "Action": "dynamodb:DisableKinesisStreamingDestination",
      "Resource": "*"
    }
    %{ endif }
  ]
}

{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "dynamodb:DescribeKinesisStreamingDestination"
      "Resource": "arn:aws:dynamodb:*:*:table/${table}"
    }
  ]
}

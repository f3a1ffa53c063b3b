"""AWS adapters (boto3), created lazily so importing the app stays cheap."""

"""bedrock_cache: Amazon Bedrock prompt caching, planned, measured and explained."""

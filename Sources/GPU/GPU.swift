// GPU target

"""Lambda function `filter_inferences`: its code is handler.py; tests beside it are not deployed."""

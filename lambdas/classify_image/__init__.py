"""Lambda function `classify_image`: its code is handler.py; tests beside it are not deployed."""

"""Lambda function `serialize_image_data`: its code is handler.py; tests beside it are not deployed."""

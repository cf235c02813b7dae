"""The REST API's shared machinery: routing, pagination, renderers, keys and errors."""

"""The REST API for this app's records: serializers and viewsets."""

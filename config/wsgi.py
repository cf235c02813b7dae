import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

# Everything loaded so far (Django, the apps, the URLconf's modules) lives as long as the
# process: moved out of the collector's sight, it is no longer walked by every full
# collection, which paused a worker for tens of milliseconds mid-request.
gc.freeze()

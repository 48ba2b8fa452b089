"""Create the table(s) of every DatabaseCache in CACHES (the login throttle's counts).

Django makes these tables with `manage.py createcachetable`, not with migrations; running that
command from here means a plain `migrate` leaves nothing to forget, and the table is exactly
what Django would make, on SQLite and PostgreSQL alike (the command builds its DDL from the
connection's own column types and skips a table that already exists).
"""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    existing = set(schema_editor.connection.introspection.table_names())
    for alias in settings.CACHES:
        cache = caches[alias]
        if isinstance(cache, BaseDatabaseCache) and cache._table in existing:
            schema_editor.execute(f"DROP TABLE {quote(cache._table)}")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_cache_tables, drop_cache_tables, elidable=False),
    ]

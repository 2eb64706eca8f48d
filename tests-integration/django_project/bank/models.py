# bank/models.py
from django.db import models


class Balance(models.Model):
    """A read model: the projection keeps it up to date."""

    account = models.UUIDField(primary_key=True)
    owner = models.CharField(max_length=100)
    total = models.IntegerField(default=0)

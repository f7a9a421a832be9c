import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("environments", "0006_tokens_and_audit"),
    ]

    operations = [
        migrations.AlterModelOptions(name="dockerhost", options={"ordering": ["name"]}),
        migrations.AddField(model_name="dockerhost", name="draining",
                            field=models.BooleanField(default=False)),
        migrations.AddField(model_name="dockerhost", name="max_environments",
                            field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="dockerhost", name="max_cpus",
                            field=models.DecimalField(decimal_places=2, default=0, max_digits=6,
                                                      validators=[django.core.validators.MinValueValidator(0)])),
        migrations.AddField(model_name="dockerhost", name="max_memory_mb",
                            field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="dockerhost", name="answering",
                            field=models.BooleanField(default=True)),
        migrations.AddField(model_name="dockerhost", name="engine_version",
                            field=models.CharField(blank=True, max_length=40)),
        migrations.AddField(model_name="dockerhost", name="latency_ms",
                            field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="dockerhost", name="total_cpus",
                            field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="dockerhost", name="total_memory_mb",
                            field=models.PositiveIntegerField(blank=True, null=True)),
        migrations.AddField(model_name="dockerhost", name="checked_at",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="dockerhost", name="down_since",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="dockerhost", name="health_detail",
                            field=models.CharField(blank=True, max_length=300)),
    ]

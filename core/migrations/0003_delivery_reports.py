from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_outbox')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='platform_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='platform_status',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['channel', 'platform_id'], name='outbox_platform_id'),
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from core.vocab import Channel
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_outbox')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Attachment',
            options={'table': 'attachment', 'app': 'models', 'indexes': [Index(fields=['state', 'next_attempt_at'], name='attachment_due')], 'pk_attr': 'id', 'table_description': 'A file kept with an inquiry. Media that arrived on a chat channel is first recorded by its'},
        ),
        ops.AddField(
            model_name='Attachment',
            name='attempts',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Attachment',
            name='channel',
            field=fields.CharEnumField(default=Channel.WEB, description='WECHAT: wechat\nWEIBO: weibo\nWEB: web\nDESK: desk\nOPEN311: open311', db_default='web', enum_type=Channel, max_length=16),
        ),
        ops.AddField(
            model_name='Attachment',
            name='last_error',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Attachment',
            name='media_id',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Attachment',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Attachment',
            name='state',
            field=fields.CharField(default='stored', db_default='stored', max_length=16),
        ),
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['state', 'next_attempt_at'], name='attachment_due'),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='platform_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='platform_status',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['channel', 'platform_id'], name='outbox_platform_id'),
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from core.vocab import Channel
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('inquiry', fields.ForeignKeyField('models.Inquiry', source_field='inquiry_id', db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='WECHAT: wechat\nWEIBO: weibo\nWEB: web\nDESK: desk\nOPEN311: open311', enum_type=Channel, max_length=16)),
                ('recipient', fields.CharField(max_length=128)),
                ('kind', fields.CharField(max_length=32)),
                ('text', fields.TextField(unique=False)),
                ('state', fields.CharField(default='pending', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'indexes': [Index(fields=['state', 'next_attempt_at'], name='outbox_due')], 'pk_attr': 'id', 'table_description': 'A message owed to a citizen on a chat channel, written in the transaction of the action that owes'},
            bases=['Model'],
        ),
    ]

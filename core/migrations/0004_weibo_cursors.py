from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_delivery_reports_and_media')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelCursor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('value', fields.CharField(max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channel_cursor', 'app': 'models', 'pk_attr': 'id', 'table_description': "How far a polled stream has been read (the since_id of each of Weibo's mentions streams), kept"},
            bases=['Model'],
        ),
    ]

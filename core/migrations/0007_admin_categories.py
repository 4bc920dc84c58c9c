from tortoise import migrations
from tortoise.migrations import operations as ops
from core.deadlines import Clock
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_queue_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=32)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='categories', on_delete=OnDelete.RESTRICT)),
                ('urgent', fields.BooleanField(default=False)),
                ('ack_clock', fields.CharEnumField(null=True, description='natural_hours: natural_hours\nworking_hours: working_hours\nworking_days: working_days', enum_type=Clock, max_length=16)),
                ('ack_amount', fields.IntField(null=True)),
                ('reply_clock', fields.CharEnumField(null=True, description='natural_hours: natural_hours\nworking_hours: working_hours\nworking_days: working_days', enum_type=Clock, max_length=16)),
                ('reply_amount', fields.IntField(null=True)),
                ('active', fields.BooleanField(default=True)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'category', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A category citizens file under: the unit it goes to, whether it is urgent, and its deadline'},
            bases=['Model'],
        ),
    ]

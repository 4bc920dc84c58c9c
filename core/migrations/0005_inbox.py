from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_weibo_cursors')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReplyTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', null=True, db_constraint=True, to_field='id', related_name='reply_templates', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=60)),
                ('body', fields.TextField(unique=False)),
                ('active', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reply_template', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A reply text staff start from, such as the 制度性答复 (formal answer). Its body may hold the'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Inquiry',
            name='reply_contact',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Staff',
            name='seen_event_id',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]

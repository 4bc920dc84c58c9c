"""Indexes for the list filters at a million inquiries (a category with its kind and channel, a kind
with its channel, a channel; each newest first) and for the case page (an inquiry's messages,
attachments, outbox messages and merged inquiries, read by inquiry)."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0007_admin_categories")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Attachment",
            index=Index(fields=["inquiry_id", "id"], name="attachment_inquiry"),
        ),
        ops.AddIndex(
            model_name="Inquiry",
            index=Index(
                fields=["category", "kind", "channel", "created_at"], name="inquiry_category_filters"
            ),
        ),
        ops.AddIndex(
            model_name="Inquiry",
            index=Index(fields=["kind", "channel", "created_at"], name="inquiry_kind_channel_created"),
        ),
        ops.AddIndex(
            model_name="Inquiry",
            index=Index(fields=["channel", "created_at"], name="inquiry_channel_created"),
        ),
        ops.AddIndex(
            model_name="Inquiry",
            index=Index(fields=["merged_into_id"], name="inquiry_merged_into"),
        ),
        ops.AddIndex(
            model_name="InquiryMessage",
            index=Index(fields=["inquiry_id", "id"], name="message_inquiry"),
        ),
        ops.AddIndex(
            model_name="OutboxMessage",
            index=Index(fields=["inquiry_id", "id"], name="outbox_inquiry"),
        ),
    ]

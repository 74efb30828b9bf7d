"""0030: applied_mutation.content_hash, a digest of each applied mutation's content, so a mutation id used again
for different content is refused (`mutation_id_reused`) instead of silently answered `duplicate`. Rows applied
before it have none and are answered as before. Frozen here: do not import server.models."""


def up(migrator, db):
    from peewee import CharField
    from playhouse.migrate import migrate

    migrate(migrator.add_column("applied_mutation", "content_hash", CharField(max_length=32, null=True)))

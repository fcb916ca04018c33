ALTER TABLE "backup_sets" ADD COLUMN "kind" text DEFAULT 'backup' NOT NULL;--> statement-breakpoint
ALTER TABLE "backup_sets" ADD COLUMN "missing" jsonb;--> statement-breakpoint
ALTER TABLE "backup_sets" ADD COLUMN "missing_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "creator_scope" text DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "blocked_reason" text;--> statement-breakpoint
-- Existing sets: imports, version snapshots and other runs' sets are told apart from real backups (ADR 022).
UPDATE "backup_sets" SET "kind" = 'import' WHERE "origin" = 'imported';--> statement-breakpoint
UPDATE "backup_sets" SET "kind" = 'version' WHERE "origin" = 'created' AND "labels" @> '["version-restore"]'::jsonb;--> statement-breakpoint
UPDATE "backup_sets" s SET "kind" = 'system' FROM "operation_runs" r WHERE s."run_id" = r."id" AND r."type" <> 'backup.create' AND s."kind" = 'backup';--> statement-breakpoint
-- The missing list moves out of the manifest (which keeps its first 10 entries) into its own column.
UPDATE "backup_sets" SET
  "missing" = "manifest"->'missing',
  "missing_count" = jsonb_array_length("manifest"->'missing'),
  "manifest" = jsonb_set("manifest", '{missing}', coalesce((SELECT jsonb_agg(e) FROM (SELECT e FROM jsonb_array_elements("manifest"->'missing') e LIMIT 10) x), '[]'::jsonb))
WHERE jsonb_typeof("manifest"->'missing') = 'array';

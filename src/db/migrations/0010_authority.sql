ALTER TABLE "backup_sets" ADD COLUMN "kind" text DEFAULT 'backup' NOT NULL;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "creator_scope" text DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "blocked_reason" text;--> statement-breakpoint
-- Existing sets: imports, version snapshots and other runs' sets are told apart from real backups (ADR 021).
UPDATE "backup_sets" SET "kind" = 'import' WHERE "origin" = 'imported';--> statement-breakpoint
UPDATE "backup_sets" SET "kind" = 'version' WHERE "origin" = 'created' AND "labels" @> '["version-restore"]'::jsonb;--> statement-breakpoint
UPDATE "backup_sets" s SET "kind" = 'system' FROM "operation_runs" r WHERE s."run_id" = r."id" AND r."type" <> 'backup.create' AND s."kind" = 'backup';

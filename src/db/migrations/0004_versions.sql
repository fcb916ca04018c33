CREATE TABLE "inventory_changes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"item_id" uuid NOT NULL,
	"policy_type" text NOT NULL,
	"display_name" text NOT NULL,
	"kind" text NOT NULL,
	"version_id" uuid,
	"previous_version_id" uuid,
	"detected_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"run_id" uuid NOT NULL,
	"changed_by" jsonb
);
--> statement-breakpoint
CREATE TABLE "inventory_contents" (
	"tenant_id" uuid NOT NULL,
	"content_hash" text NOT NULL,
	"payload" jsonb NOT NULL,
	"assignments" jsonb NOT NULL,
	CONSTRAINT "inventory_contents_tenant_id_content_hash_pk" PRIMARY KEY("tenant_id","content_hash")
);
--> statement-breakpoint
CREATE TABLE "inventory_versions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"item_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"content_hash" text NOT NULL,
	"captured_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"run_id" uuid NOT NULL,
	"changed_by" jsonb
);
--> statement-breakpoint
CREATE TABLE "setting_definitions" (
	"tenant_id" uuid NOT NULL,
	"id" text NOT NULL,
	"display_name" text NOT NULL,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "setting_definitions_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "inventory_type_states" ADD COLUMN "last_full_sync_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "inventory_changes" ADD CONSTRAINT "inventory_changes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_changes" ADD CONSTRAINT "inventory_changes_item_id_inventory_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."inventory_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_contents" ADD CONSTRAINT "inventory_contents_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_versions" ADD CONSTRAINT "inventory_versions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_versions" ADD CONSTRAINT "inventory_versions_item_id_inventory_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."inventory_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "setting_definitions" ADD CONSTRAINT "setting_definitions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inventory_changes_feed_idx" ON "inventory_changes" USING btree ("tenant_id","detected_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "inventory_changes_type_feed_idx" ON "inventory_changes" USING btree ("tenant_id","policy_type","detected_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "inventory_versions_item_number_key" ON "inventory_versions" USING btree ("item_id","number");--> statement-breakpoint
-- Items synced before versions existed: their current content is their first version.
INSERT INTO "inventory_contents" ("tenant_id", "content_hash", "payload", "assignments")
SELECT DISTINCT ON ("tenant_id", "content_hash") "tenant_id", "content_hash", "payload", "assignments" FROM "inventory_items"
ON CONFLICT DO NOTHING;--> statement-breakpoint
INSERT INTO "inventory_versions" ("id", "tenant_id", "item_id", "number", "content_hash", "captured_at", "run_id")
SELECT gen_random_uuid(), "tenant_id", "id", 1, "content_hash", "updated_at", "last_seen_run_id" FROM "inventory_items";
--> statement-breakpoint
-- Every sync before quick syncs read its types in full.
UPDATE "inventory_type_states" SET "last_full_sync_at" = "last_synced_at";

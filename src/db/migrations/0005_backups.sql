CREATE TABLE "backup_retention" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"keep_last" integer NOT NULL,
	"keep_days" integer NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_set_items" (
	"backup_id" uuid NOT NULL,
	"policy_type" text NOT NULL,
	"external_id" text NOT NULL,
	"display_name" text NOT NULL,
	"content_hash" text NOT NULL,
	CONSTRAINT "backup_set_items_backup_id_policy_type_external_id_pk" PRIMARY KEY("backup_id","policy_type","external_id")
);
--> statement-breakpoint
CREATE TABLE "backup_sets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"protected" boolean DEFAULT false NOT NULL,
	"labels" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"origin" text NOT NULL,
	"run_id" uuid,
	"initiator_user_id" uuid,
	"item_count" integer DEFAULT 0 NOT NULL,
	"counts_by_type" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"manifest" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "backup_retention" ADD CONSTRAINT "backup_retention_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_set_items" ADD CONSTRAINT "backup_set_items_backup_id_backup_sets_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backup_sets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_sets" ADD CONSTRAINT "backup_sets_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_sets" ADD CONSTRAINT "backup_sets_initiator_user_id_users_id_fk" FOREIGN KEY ("initiator_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "backup_set_items_order_idx" ON "backup_set_items" USING btree ("backup_id","policy_type","display_name","external_id");--> statement-breakpoint
CREATE INDEX "backup_set_items_hash_idx" ON "backup_set_items" USING btree ("content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "backup_sets_run_key" ON "backup_sets" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "backup_sets_tenant_created_idx" ON "backup_sets" USING btree ("tenant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);
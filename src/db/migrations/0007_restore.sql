CREATE TABLE "graph_writes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"key" text NOT NULL,
	"operation" text NOT NULL,
	"policy_type" text NOT NULL,
	"target_id" text,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"marker" text NOT NULL,
	"state" text DEFAULT 'intended' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"confirmed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "restore_mappings" (
	"source_tenant_id" uuid NOT NULL,
	"target_tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"source_id" text NOT NULL,
	"target_id" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "restore_mappings_source_tenant_id_target_tenant_id_kind_source_id_pk" PRIMARY KEY("source_tenant_id","target_tenant_id","kind","source_id")
);
--> statement-breakpoint
CREATE TABLE "restore_plan_items" (
	"plan_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"position" integer NOT NULL,
	"policy_type" text NOT NULL,
	"source_external_id" text NOT NULL,
	"display_name" text NOT NULL,
	"content_hash" text NOT NULL,
	"action" text NOT NULL,
	"target_external_id" text,
	"reason" text,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"excluded" boolean DEFAULT false NOT NULL,
	"changes" jsonb,
	CONSTRAINT "restore_plan_items_plan_id_id_pk" PRIMARY KEY("plan_id","id")
);
--> statement-breakpoint
CREATE TABLE "restore_plans" (
	"id" uuid PRIMARY KEY NOT NULL,
	"target_tenant_id" uuid NOT NULL,
	"source_tenant_id" uuid NOT NULL,
	"backup_id" uuid NOT NULL,
	"selection" jsonb,
	"created_by_user_id" uuid,
	"target_synced_at" timestamp (3) with time zone,
	"built_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"mapping" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"run_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "graph_writes" ADD CONSTRAINT "graph_writes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_mappings" ADD CONSTRAINT "restore_mappings_source_tenant_id_tenants_id_fk" FOREIGN KEY ("source_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_mappings" ADD CONSTRAINT "restore_mappings_target_tenant_id_tenants_id_fk" FOREIGN KEY ("target_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plan_items" ADD CONSTRAINT "restore_plan_items_plan_id_restore_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."restore_plans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_target_tenant_id_tenants_id_fk" FOREIGN KEY ("target_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_source_tenant_id_tenants_id_fk" FOREIGN KEY ("source_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_backup_id_backup_sets_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backup_sets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_plans" ADD CONSTRAINT "restore_plans_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "graph_writes_run_key" ON "graph_writes" USING btree ("run_id","key");--> statement-breakpoint
CREATE INDEX "graph_writes_tenant_marker_idx" ON "graph_writes" USING btree ("tenant_id","marker");--> statement-breakpoint
CREATE INDEX "restore_plan_items_order_idx" ON "restore_plan_items" USING btree ("plan_id","position");--> statement-breakpoint
CREATE INDEX "restore_plans_target_created_idx" ON "restore_plans" USING btree ("target_tenant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);
CREATE TABLE "baseline_assignments" (
	"tenant_id" uuid NOT NULL,
	"baseline_id" uuid NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"mapping" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"overrides" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"bindings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"evaluated_version" integer,
	"evaluated_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "baseline_assignments_tenant_id_baseline_id_pk" PRIMARY KEY("tenant_id","baseline_id")
);
--> statement-breakpoint
CREATE TABLE "baseline_contents" (
	"content_hash" text PRIMARY KEY NOT NULL,
	"payload" jsonb NOT NULL,
	"assignments" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "baseline_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"baseline_id" uuid NOT NULL,
	"policy_type" text NOT NULL,
	"display_name" text NOT NULL,
	"odata_type" text,
	"source_tenant_id" uuid NOT NULL,
	"source_item_id" uuid,
	"source_external_id" text NOT NULL,
	"source_version_id" uuid,
	"source_backup_id" uuid,
	"content_hash" text NOT NULL,
	"compare" jsonb NOT NULL,
	"ignore" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"added_in_version" integer NOT NULL,
	"removed_in_version" integer
);
--> statement-breakpoint
CREATE TABLE "baseline_versions" (
	"baseline_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"summary" text NOT NULL,
	"entries" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "baseline_versions_baseline_id_number_pk" PRIMARY KEY("baseline_id","number")
);
--> statement-breakpoint
CREATE TABLE "baselines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"home_tenant_id" uuid NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "findings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"baseline_id" uuid NOT NULL,
	"entry_id" uuid NOT NULL,
	"item_id" uuid,
	"path" text NOT NULL,
	"label" text NOT NULL,
	"kind" text NOT NULL,
	"expected" jsonb,
	"actual" jsonb,
	"severity" text NOT NULL,
	"state" text NOT NULL,
	"unknown_since" timestamp (3) with time zone,
	"first_seen_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"resolved_at" timestamp (3) with time zone,
	"reopened_count" integer DEFAULT 0 NOT NULL,
	"caused_by" jsonb,
	"acknowledged_by" uuid,
	"acknowledged_at" timestamp (3) with time zone,
	"exception" jsonb
);
--> statement-breakpoint
ALTER TABLE "baseline_assignments" ADD CONSTRAINT "baseline_assignments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baseline_assignments" ADD CONSTRAINT "baseline_assignments_baseline_id_baselines_id_fk" FOREIGN KEY ("baseline_id") REFERENCES "public"."baselines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baseline_entries" ADD CONSTRAINT "baseline_entries_baseline_id_baselines_id_fk" FOREIGN KEY ("baseline_id") REFERENCES "public"."baselines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baseline_entries" ADD CONSTRAINT "baseline_entries_content_hash_baseline_contents_content_hash_fk" FOREIGN KEY ("content_hash") REFERENCES "public"."baseline_contents"("content_hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baseline_versions" ADD CONSTRAINT "baseline_versions_baseline_id_baselines_id_fk" FOREIGN KEY ("baseline_id") REFERENCES "public"."baselines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baseline_versions" ADD CONSTRAINT "baseline_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baselines" ADD CONSTRAINT "baselines_home_tenant_id_tenants_id_fk" FOREIGN KEY ("home_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baselines" ADD CONSTRAINT "baselines_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_baseline_id_baselines_id_fk" FOREIGN KEY ("baseline_id") REFERENCES "public"."baselines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_acknowledged_by_users_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "baseline_assignments_baseline_idx" ON "baseline_assignments" USING btree ("baseline_id");--> statement-breakpoint
CREATE INDEX "baseline_entries_baseline_idx" ON "baseline_entries" USING btree ("baseline_id","policy_type","display_name");--> statement-breakpoint
CREATE INDEX "baselines_home_tenant_idx" ON "baselines" USING btree ("home_tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "findings_identity_key" ON "findings" USING btree ("tenant_id","baseline_id","entry_id","path");--> statement-breakpoint
CREATE INDEX "findings_list_idx" ON "findings" USING btree ("tenant_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "findings_state_idx" ON "findings" USING btree ("tenant_id","state","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "findings_severity_idx" ON "findings" USING btree ("tenant_id","severity","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "findings_baseline_idx" ON "findings" USING btree ("tenant_id","baseline_id","id" DESC NULLS LAST);
CREATE TABLE "comparison_rows" (
	"comparison_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"status" text NOT NULL,
	"policy_type" text NOT NULL,
	"left" jsonb,
	"right" jsonb,
	"changes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "comparison_rows_comparison_id_position_pk" PRIMARY KEY("comparison_id","position")
);
--> statement-breakpoint
CREATE TABLE "comparisons" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_by" uuid,
	"left" jsonb NOT NULL,
	"right" jsonb NOT NULL,
	"left_tenant_id" uuid NOT NULL,
	"right_tenant_id" uuid NOT NULL,
	"status" text NOT NULL,
	"run_id" uuid,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"mapping" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "documentation_chunks" (
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "documentation_chunks_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "documentation_exports" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"format" text NOT NULL,
	"filename" text NOT NULL,
	"byte_count" integer DEFAULT 0 NOT NULL,
	"sha256" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "tenant_group_id" uuid;--> statement-breakpoint
ALTER TABLE "comparison_rows" ADD CONSTRAINT "comparison_rows_comparison_id_comparisons_id_fk" FOREIGN KEY ("comparison_id") REFERENCES "public"."comparisons"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "comparisons" ADD CONSTRAINT "comparisons_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "comparisons" ADD CONSTRAINT "comparisons_left_tenant_id_tenants_id_fk" FOREIGN KEY ("left_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "comparisons" ADD CONSTRAINT "comparisons_right_tenant_id_tenants_id_fk" FOREIGN KEY ("right_tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documentation_chunks" ADD CONSTRAINT "documentation_chunks_run_id_documentation_exports_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."documentation_exports"("run_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documentation_exports" ADD CONSTRAINT "documentation_exports_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "comparison_rows_status_idx" ON "comparison_rows" USING btree ("comparison_id","status","position");--> statement-breakpoint
CREATE INDEX "comparison_rows_type_idx" ON "comparison_rows" USING btree ("comparison_id","policy_type","position");--> statement-breakpoint
CREATE INDEX "comparisons_left_tenant_idx" ON "comparisons" USING btree ("left_tenant_id");--> statement-breakpoint
CREATE INDEX "comparisons_right_tenant_idx" ON "comparisons" USING btree ("right_tenant_id");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_tenant_group_id_tenant_groups_id_fk" FOREIGN KEY ("tenant_group_id") REFERENCES "public"."tenant_groups"("id") ON DELETE cascade ON UPDATE no action;
CREATE TABLE "tenant_group_members" (
	"group_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	CONSTRAINT "tenant_group_members_group_id_tenant_id_pk" PRIMARY KEY("group_id","tenant_id")
);
--> statement-breakpoint
CREATE TABLE "tenant_groups" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenant_group_members" ADD CONSTRAINT "tenant_group_members_group_id_tenant_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."tenant_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_group_members" ADD CONSTRAINT "tenant_group_members_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tenant_group_members_tenant_idx" ON "tenant_group_members" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tenant_groups_name_key" ON "tenant_groups" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "operation_runs_tenant_type_created_idx" ON "operation_runs" USING btree ("tenant_id","type","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);
CREATE TABLE "inventory_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"policy_type" text NOT NULL,
	"external_id" text NOT NULL,
	"display_name" text NOT NULL,
	"category" text NOT NULL,
	"platform" text NOT NULL,
	"payload" jsonb NOT NULL,
	"assignments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"graph_last_modified_at" timestamp (3) with time zone,
	"first_seen_run_id" uuid NOT NULL,
	"last_seen_run_id" uuid NOT NULL,
	"removed_at" timestamp (3) with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inventory_references" (
	"item_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"target_type" text NOT NULL,
	"target_external_id" text NOT NULL,
	"orphaned" boolean DEFAULT false NOT NULL,
	CONSTRAINT "inventory_references_item_id_target_type_target_external_id_pk" PRIMARY KEY("item_id","target_type","target_external_id")
);
--> statement-breakpoint
CREATE TABLE "inventory_type_states" (
	"tenant_id" uuid NOT NULL,
	"policy_type" text NOT NULL,
	"last_run_id" uuid NOT NULL,
	"last_synced_at" timestamp (3) with time zone NOT NULL,
	"item_count" integer NOT NULL,
	CONSTRAINT "inventory_type_states_tenant_id_policy_type_pk" PRIMARY KEY("tenant_id","policy_type")
);
--> statement-breakpoint
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_references" ADD CONSTRAINT "inventory_references_item_id_inventory_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."inventory_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_references" ADD CONSTRAINT "inventory_references_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_type_states" ADD CONSTRAINT "inventory_type_states_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "inventory_items_identity_key" ON "inventory_items" USING btree ("tenant_id","policy_type","external_id");--> statement-breakpoint
CREATE INDEX "inventory_items_name_idx" ON "inventory_items" USING btree ("tenant_id","display_name","id");--> statement-breakpoint
CREATE INDEX "inventory_items_type_name_idx" ON "inventory_items" USING btree ("tenant_id","policy_type","display_name","id");--> statement-breakpoint
CREATE INDEX "inventory_items_category_name_idx" ON "inventory_items" USING btree ("tenant_id","category","display_name","id");--> statement-breakpoint
CREATE INDEX "inventory_references_target_idx" ON "inventory_references" USING btree ("tenant_id","target_type","target_external_id");
CREATE TABLE "entra_identities" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"tid" text NOT NULL,
	"oid" text NOT NULL,
	"username" text NOT NULL,
	"groups" text[] DEFAULT '{}'::text[] NOT NULL,
	"app_roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"last_sign_in_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invites" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"accepted_by" uuid
);
--> statement-breakpoint
CREATE TABLE "role_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"claim" text NOT NULL,
	"value" text NOT NULL,
	"workspace_admin" boolean DEFAULT false NOT NULL,
	"role" text,
	"tenant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"tenant_group_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD COLUMN "auth_time" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD COLUMN "acrs" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD COLUMN "identity_id" uuid;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD COLUMN "refresh_token" text;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD COLUMN "roles_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenant_memberships" ADD COLUMN "source" text DEFAULT 'manual' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "admin_via_entra" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "break_glass" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "entra_identities" ADD CONSTRAINT "entra_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "entra_identities_tid_oid_key" ON "entra_identities" USING btree ("tid","oid");--> statement-breakpoint
CREATE INDEX "entra_identities_user_idx" ON "entra_identities" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invites_token_hash_key" ON "invites" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "invites_tenant_idx" ON "invites" USING btree ("tenant_id");--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD CONSTRAINT "auth_sessions_identity_id_entra_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."entra_identities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Hand-written: a session signed in before this migration proved its password when it was created.
UPDATE "auth_sessions" SET "auth_time" = "created_at" WHERE "auth_time" IS NULL;

ALTER TABLE "api_keys" ADD COLUMN "previous_key_hash" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "previous_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rules" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "spend_limit" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rate_limits" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "max_output_tokens" integer;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "spend_limit" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "plan" text DEFAULT 'free' NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "keys_per_user" integer;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "spend_limit" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "spend_limit" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "api_keys_owner" ON "api_keys" USING btree ("owner_user_id");--> statement-breakpoint
CREATE INDEX "usage_records_project_time" ON "usage_records" USING btree ("project_id","time");--> statement-breakpoint
CREATE INDEX "usage_records_user_time" ON "usage_records" USING btree ("user_id","time");--> statement-breakpoint
CREATE INDEX "usage_records_org_time" ON "usage_records" USING btree ("org_id","time");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_previous_key_hash_unique" UNIQUE("previous_key_hash");
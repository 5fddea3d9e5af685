ALTER TABLE "models" ADD COLUMN "managed_by" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "managed_by" text;--> statement-breakpoint
ALTER TABLE "provider_credentials" ADD COLUMN "managed_by" text;
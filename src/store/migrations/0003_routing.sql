ALTER TABLE "model_targets" ADD COLUMN "timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "retries" integer DEFAULT 1 NOT NULL;
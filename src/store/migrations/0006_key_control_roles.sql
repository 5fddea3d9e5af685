ALTER TABLE "api_keys" ADD COLUMN "disabled_by_role" "role";--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "expiry_set_by_role" "role";
DROP INDEX "usage_records_time";--> statement-breakpoint
DROP INDEX "usage_records_model_time";
ALTER TABLE "models" ADD COLUMN "cache_write_input_price" double precision;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "cache_write_1h_input_price" double precision;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "price_sources" jsonb;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cache_write_1h_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "reasoning_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "usage_source" text;--> statement-breakpoint
-- Claude models published before cache-write prices existed: 5-minute writes cost 1.25× and
-- 1-hour writes 2× the model's input price (Anthropic's rule, at Anthropic and on Bedrock).
UPDATE "models" AS m SET "cache_write_input_price" = m."input_price" * 1.25, "cache_write_1h_input_price" = m."input_price" * 2
WHERE EXISTS (
  SELECT 1 FROM "model_targets" t JOIN "provider_credentials" c ON c."id" = t."credential_id"
  WHERE t."model_id" = m."id"
    AND t."position" = (SELECT min(p."position") FROM "model_targets" p WHERE p."model_id" = m."id")
    AND (c."provider" = 'anthropic' OR lower(t."upstream_model") LIKE '%claude%')
);

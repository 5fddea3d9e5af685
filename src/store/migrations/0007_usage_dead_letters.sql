CREATE TABLE "usage_dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"request_id" text,
	"record" text NOT NULL,
	"reason" text NOT NULL
);

CREATE TYPE "public"."backup_integrity" AS ENUM('unchecked', 'verified', 'damaged');--> statement-breakpoint
CREATE TYPE "public"."restore_test_outcome" AS ENUM('passed', 'failed');--> statement-breakpoint
CREATE TABLE "integrity_schedule" (
	"id" text PRIMARY KEY DEFAULT 'global' NOT NULL,
	"scrub_every_days" integer,
	"restore_test_every_days" integer,
	"updated_by" text,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "restore_tests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"backup_id" uuid NOT NULL,
	"project_id" text NOT NULL,
	"job_id" uuid NOT NULL,
	"outcome" "restore_test_outcome" NOT NULL,
	"problem" text,
	"data_fault" boolean DEFAULT false NOT NULL,
	"duration_ms" integer NOT NULL,
	"bytes_restored" bigint DEFAULT 0 NOT NULL,
	"blocks_checked" integer DEFAULT 0 NOT NULL,
	"chain_length" integer DEFAULT 1 NOT NULL,
	"started_at" timestamp (6) with time zone NOT NULL,
	"finished_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "restore_tests_job_id_unique" UNIQUE("job_id")
);
--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "integrity" "backup_integrity" DEFAULT 'unchecked' NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "integrity_checked_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "integrity_problem" text;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "integrity_object" text;--> statement-breakpoint
CREATE INDEX "restore_tests_backup_idx" ON "restore_tests" USING btree ("backup_id","finished_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "restore_tests_project_idx" ON "restore_tests" USING btree ("project_id","finished_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "backups_integrity_idx" ON "backups" USING btree ("integrity","integrity_checked_at") WHERE "backups"."deleted" = false;
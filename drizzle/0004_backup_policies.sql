CREATE TYPE "public"."policy_run_status" AS ENUM('started', 'succeeded', 'failed', 'skipped');--> statement-breakpoint
CREATE TABLE "policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" text,
	"name" text NOT NULL,
	"schedule" jsonb NOT NULL,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"full_every_runs" integer,
	"full_every_days" integer,
	"force" boolean DEFAULT false NOT NULL,
	"container" text,
	"retention" jsonb NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"policy_id" uuid NOT NULL,
	"volume_id" uuid NOT NULL,
	"project_id" text NOT NULL,
	"slot_at" timestamp (6) with time zone,
	"status" "policy_run_status" NOT NULL,
	"reason" text,
	"backup_id" uuid,
	"incremental" boolean DEFAULT false NOT NULL,
	"retention" jsonb,
	"started_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "policy_volumes" (
	"policy_id" uuid NOT NULL,
	"volume_id" uuid NOT NULL,
	"project_id" text NOT NULL,
	"next_slot_at" timestamp (6) with time zone,
	"next_run_at" timestamp (6) with time zone,
	"assigned_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "policy_volumes_policy_id_volume_id_pk" PRIMARY KEY("policy_id","volume_id")
);
--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "policy_id" uuid;--> statement-breakpoint
ALTER TABLE "policy_runs" ADD CONSTRAINT "policy_runs_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_runs" ADD CONSTRAINT "policy_runs_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_volumes" ADD CONSTRAINT "policy_volumes_policy_id_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "policy_volumes" ADD CONSTRAINT "policy_volumes_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "policies_project_idx" ON "policies" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "policy_runs_policy_idx" ON "policy_runs" USING btree ("policy_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "policy_runs_live_idx" ON "policy_runs" USING btree ("status") WHERE "policy_runs"."status" = 'started';--> statement-breakpoint
CREATE INDEX "policy_volumes_due_idx" ON "policy_volumes" USING btree ("next_run_at") WHERE "policy_volumes"."next_run_at" is not null;--> statement-breakpoint
CREATE INDEX "policy_volumes_volume_idx" ON "policy_volumes" USING btree ("volume_id");
CREATE TYPE "public"."membership_role" AS ENUM('member', 'reader');--> statement-breakpoint
CREATE TYPE "public"."attach_status" AS ENUM('attached', 'attaching', 'detached', 'reserved', 'error_attaching', 'error_detaching');--> statement-breakpoint
CREATE TYPE "public"."backup_status" AS ENUM('creating', 'available', 'deleting', 'deleted', 'error', 'error_deleting', 'restoring');--> statement-breakpoint
CREATE TYPE "public"."resource_backup_status" AS ENUM('backing-up', 'error_backing-up', 'restoring-backup', 'error_restoring');--> statement-breakpoint
CREATE TYPE "public"."snapshot_status" AS ENUM('creating', 'available', 'deleting', 'deleted', 'error', 'error_deleting', 'updating', 'unmanaging');--> statement-breakpoint
CREATE TYPE "public"."volume_status" AS ENUM('creating', 'available', 'in-use', 'attaching', 'detaching', 'extending', 'deleting', 'error', 'error_deleting', 'error_extending', 'maintenance', 'reserved', 'awaiting-transfer', 'downloading', 'uploading', 'retyping', 'managing', 'error_managing');--> statement-breakpoint
CREATE TYPE "public"."job_status" AS ENUM('queued', 'running', 'succeeded', 'failed', 'cancelled');--> statement-breakpoint
CREATE SEQUENCE "public"."job_lease_tokens" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" text NOT NULL,
	"project_id" text,
	"application_credential_id" text,
	"methods" text[] NOT NULL,
	"issued_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	"revoked_at" timestamp (6) with time zone
);
--> statement-breakpoint
CREATE TABLE "application_credentials" (
	"id" text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"user_id" text NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"secret_hash" text NOT NULL,
	"expires_at" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"user_id" text NOT NULL,
	"project_id" text NOT NULL,
	"role" "membership_role" NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_user_id_project_id_pk" PRIMARY KEY("user_id","project_id")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"domain_id" text DEFAULT 'default' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"name" text NOT NULL,
	"domain_id" text DEFAULT 'default' NOT NULL,
	"password_hash" text NOT NULL,
	"is_admin" boolean DEFAULT false NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"session_version" integer DEFAULT 1 NOT NULL,
	"default_project_id" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_metadata" (
	"backup_id" uuid NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "backup_metadata_backup_id_key_pk" PRIMARY KEY("backup_id","key")
);
--> statement-breakpoint
CREATE TABLE "backups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"volume_id" uuid NOT NULL,
	"snapshot_id" uuid,
	"parent_id" uuid,
	"restore_volume_id" uuid,
	"temp_volume_id" uuid,
	"temp_snapshot_id" uuid,
	"host" text,
	"availability_zone" text,
	"container" text,
	"status" "backup_status" DEFAULT 'creating' NOT NULL,
	"fail_reason" text,
	"size" integer NOT NULL,
	"display_name" text,
	"display_description" text,
	"service_metadata" text,
	"service" text,
	"object_count" integer DEFAULT 0 NOT NULL,
	"num_dependent_backups" integer DEFAULT 0 NOT NULL,
	"encryption_key_id" text,
	"data_timestamp" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"bytes_stored" bigint DEFAULT 0 NOT NULL,
	"progress_bytes" bigint DEFAULT 0 NOT NULL,
	"progress_total_bytes" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "snapshot_metadata" (
	"snapshot_id" uuid NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "snapshot_metadata_snapshot_id_key_pk" PRIMARY KEY("snapshot_id","key")
);
--> statement-breakpoint
CREATE TABLE "snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"volume_id" uuid NOT NULL,
	"name" text,
	"description" text,
	"size" integer NOT NULL,
	"status" "snapshot_status" DEFAULT 'creating' NOT NULL,
	"backup_status" "resource_backup_status",
	"status_reason" text,
	"progress" text,
	"temporary" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_attachments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"volume_id" uuid NOT NULL,
	"instance_name" text NOT NULL,
	"mountpoint" text,
	"attach_status" "attach_status" NOT NULL,
	"attached_at" timestamp (6) with time zone,
	"detached_at" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_metadata" (
	"volume_id" uuid NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "volume_metadata_volume_id_key_pk" PRIMARY KEY("volume_id","key")
);
--> statement-breakpoint
CREATE TABLE "volumes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text,
	"description" text,
	"size" integer NOT NULL,
	"status" "volume_status" DEFAULT 'creating' NOT NULL,
	"backup_status" "resource_backup_status",
	"attach_status" "attach_status" DEFAULT 'detached' NOT NULL,
	"migration_status" text,
	"status_reason" text,
	"host" text,
	"availability_zone" text DEFAULT 'nova' NOT NULL,
	"volume_type" text DEFAULT '__DEFAULT__' NOT NULL,
	"bootable" boolean DEFAULT false NOT NULL,
	"source_snapshot_id" uuid,
	"source_volume_id" uuid,
	"source_backup_id" uuid,
	"encryption_key_id" text,
	"checksum_sha256" text,
	"checksum_at" timestamp (6) with time zone,
	"launched_at" timestamp (6) with time zone,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (6) with time zone,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quota_defaults" (
	"resource" text PRIMARY KEY NOT NULL,
	"hard_limit" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quotas" (
	"project_id" text NOT NULL,
	"resource" text NOT NULL,
	"hard_limit" integer NOT NULL,
	"in_use" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "quotas_project_id_resource_pk" PRIMARY KEY("project_id","resource")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"actor_user_id" text,
	"actor_name" text,
	"project_id" text,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"action" text NOT NULL,
	"from_status" text,
	"to_status" text,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"project_id" text,
	"resource_type" text,
	"resource_id" text,
	"target_binary" text NOT NULL,
	"target_host" text,
	"status" "job_status" DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 5 NOT NULL,
	"lease_owner" text,
	"lease_token" bigint,
	"lease_expires_at" timestamp (6) with time zone,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"progress" jsonb,
	"result" jsonb,
	"error" text,
	"requested_by" text,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (6) with time zone,
	"finished_at" timestamp (6) with time zone,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" serial PRIMARY KEY NOT NULL,
	"binary" text NOT NULL,
	"host" text NOT NULL,
	"availability_zone" text DEFAULT 'nova' NOT NULL,
	"version" text NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"disabled_reason" text,
	"report_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"modified_at" timestamp (6) with time zone,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_uuid" text,
	"action_id" text NOT NULL,
	"detail_id" text NOT NULL,
	"message_level" text DEFAULT 'ERROR' NOT NULL,
	"event_id" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_application_credential_id_application_credentials_id_fk" FOREIGN KEY ("application_credential_id") REFERENCES "public"."application_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "application_credentials" ADD CONSTRAINT "application_credentials_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "application_credentials" ADD CONSTRAINT "application_credentials_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_default_project_id_projects_id_fk" FOREIGN KEY ("default_project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_metadata" ADD CONSTRAINT "backup_metadata_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_metadata" ADD CONSTRAINT "snapshot_metadata_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_attachments" ADD CONSTRAINT "volume_attachments_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_metadata" ADD CONSTRAINT "volume_metadata_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_key" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_user_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "application_credentials_user_name_key" ON "application_credentials" USING btree ("user_id","name");--> statement-breakpoint
CREATE INDEX "memberships_project_idx" ON "memberships" USING btree ("project_id");--> statement-breakpoint
CREATE UNIQUE INDEX "projects_domain_name_key" ON "projects" USING btree ("domain_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "users_domain_name_key" ON "users" USING btree ("domain_id","name");--> statement-breakpoint
CREATE INDEX "backups_project_created_idx" ON "backups" USING btree ("project_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "backups"."deleted" = false;--> statement-breakpoint
CREATE INDEX "backups_created_idx" ON "backups" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "backups"."deleted" = false;--> statement-breakpoint
CREATE INDEX "backups_volume_idx" ON "backups" USING btree ("volume_id","data_timestamp" DESC NULLS LAST) WHERE "backups"."deleted" = false;--> statement-breakpoint
CREATE INDEX "backups_parent_idx" ON "backups" USING btree ("parent_id") WHERE "backups"."deleted" = false;--> statement-breakpoint
CREATE INDEX "snapshots_project_created_idx" ON "snapshots" USING btree ("project_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "snapshots"."deleted" = false;--> statement-breakpoint
CREATE INDEX "snapshots_volume_idx" ON "snapshots" USING btree ("volume_id") WHERE "snapshots"."deleted" = false;--> statement-breakpoint
CREATE INDEX "volume_attachments_volume_idx" ON "volume_attachments" USING btree ("volume_id");--> statement-breakpoint
CREATE INDEX "volumes_project_created_idx" ON "volumes" USING btree ("project_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "volumes"."deleted" = false;--> statement-breakpoint
CREATE INDEX "volumes_created_idx" ON "volumes" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "volumes"."deleted" = false;--> statement-breakpoint
CREATE INDEX "audit_events_resource_idx" ON "audit_events" USING btree ("resource_type","resource_id","at");--> statement-breakpoint
CREATE INDEX "audit_events_project_idx" ON "audit_events" USING btree ("project_id","at");--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "jobs_claimable_idx" ON "jobs" USING btree ("target_binary","created_at") WHERE "jobs"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "jobs_lease_idx" ON "jobs" USING btree ("lease_expires_at") WHERE "jobs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "jobs_resource_idx" ON "jobs" USING btree ("resource_type","resource_id");--> statement-breakpoint
CREATE UNIQUE INDEX "services_binary_host_key" ON "services" USING btree ("binary","host");--> statement-breakpoint
CREATE INDEX "user_messages_project_idx" ON "user_messages" USING btree ("project_id","created_at");
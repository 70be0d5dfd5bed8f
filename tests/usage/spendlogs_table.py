"""LiteLLM's `LiteLLM_SpendLogs` table as its Prisma schema creates it in PostgreSQL (litellm 1.106.2).

Column names, types and defaults follow `model LiteLLM_SpendLogs` in litellm/proxy/schema.prisma
(String -> TEXT, Float -> DOUBLE PRECISION, Int -> INTEGER, DateTime -> TIMESTAMP(3) without time
zone, Json -> JSONB); `test_spendlogs_table_matches_litellm_schema` checks the list against the
installed package.
"""

from __future__ import annotations

import re
from pathlib import Path

DDL = """
CREATE TABLE "LiteLLM_SpendLogs" (
    "request_id" TEXT NOT NULL,
    "call_type" TEXT NOT NULL,
    "api_key" TEXT NOT NULL DEFAULT '',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "startTime" TIMESTAMP(3) NOT NULL,
    "endTime" TIMESTAMP(3) NOT NULL,
    "request_duration_ms" INTEGER,
    "completionStartTime" TIMESTAMP(3),
    "model" TEXT NOT NULL DEFAULT '',
    "model_id" TEXT DEFAULT '',
    "model_group" TEXT DEFAULT '',
    "custom_llm_provider" TEXT DEFAULT '',
    "api_base" TEXT DEFAULT '',
    "user" TEXT DEFAULT '',
    "metadata" JSONB DEFAULT '{}',
    "cache_hit" TEXT DEFAULT '',
    "cache_key" TEXT DEFAULT '',
    "request_tags" JSONB DEFAULT '[]',
    "team_id" TEXT,
    "organization_id" TEXT,
    "end_user" TEXT,
    "requester_ip_address" TEXT,
    "messages" JSONB DEFAULT '{}',
    "response" JSONB DEFAULT '{}',
    "session_id" TEXT,
    "status" TEXT,
    "mcp_namespaced_tool_name" TEXT,
    "billing_agent_id" TEXT,
    "agent_id" TEXT,
    "proxy_server_request" JSONB DEFAULT '{}',
    "litellm_call_id" TEXT,
    "created_at" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LiteLLM_SpendLogs_pkey" PRIMARY KEY ("request_id")
);
CREATE INDEX "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs"("startTime");
"""


def ddl_columns() -> list[str]:
    return re.findall(r'^\s+"(\w+)" [A-Z]', DDL, flags=re.MULTILINE)


def prisma_columns(schema: Path) -> list[str]:
    """Field names of `model LiteLLM_SpendLogs` in a schema.prisma (the database column names)."""
    text = schema.read_text()
    block = text[text.index("model LiteLLM_SpendLogs {") :]
    block = block[: block.index("\n}")]
    columns = []
    for line in block.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith(("//", "@@")):
            continue
        name = line.split()[0]
        mapped = re.search(r'@map\("(\w+)"\)', line)
        columns.append(mapped.group(1) if mapped else name)
    return columns

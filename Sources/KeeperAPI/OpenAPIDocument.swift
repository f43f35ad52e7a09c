/// The OpenAPI 3.1 description of the API (served at `/api/v1/openapi.json`; validated by the tests with
/// openapi-spec-validator and exercised by schemathesis).
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Expansion Keeper stakers' API",
    "version": "1.0.0",
    "description": "Read-only: what the keeper ingested from the treasury (ExpansionTreasury or ProvenExpansionTreasury) — each staker's registration and every wei routed from their rewards, and every reward skipped with the reason; with the ProvenExpansionTreasury, also the transaction that routes a claim (for its staker to send). Amounts are decimal strings in wei; addresses are EIP-55 checksummed; block numbers are integers. Every error is {\"error\": {\"code\", \"message\"}}. GET and HEAD only (OPTIONS for CORS); any other method on a path is 405 with an Allow header. Rate limited per client address (429 with Retry-After)."
  },
  "paths": {
    "/api/v1/stats": {
      "get": {
        "operationId": "stats",
        "summary": "The treasury's totals and the keeper's last ingested block",
        "responses": {
          "200": {"description": "Totals", "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}},
          "304": {"description": "Not modified (If-None-Match matched the ETag)"},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/v1/stakers/{address}": {
      "parameters": [{"$ref": "#/components/parameters/Address"}],
      "get": {
        "operationId": "staker",
        "summary": "One staker's registration and contribution totals",
        "responses": {
          "200": {"description": "The staker's public record (zeros when the keeper has never seen the address)",
                  "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Staker"}}}},
          "304": {"description": "Not modified"},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/v1/stakers/{address}/contributions": {
      "parameters": [{"$ref": "#/components/parameters/Address"}],
      "get": {
        "operationId": "contributions",
        "summary": "Every route and skip of the staker's rewards, newest first",
        "parameters": [
          {"name": "limit", "in": "query", "required": false, "description": "Items per page (default 50).",
           "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
          {"name": "cursor", "in": "query", "required": false, "description": "next_cursor of the previous page.",
           "schema": {"type": "string", "pattern": "^[0-9]{1,20}-[0-9]{1,10}$"}},
          {"name": "format", "in": "query", "required": false,
           "description": "csv returns every item as text/csv with a header row (no limit or cursor).",
           "schema": {"type": "string", "enum": ["json", "csv"]}}
        ],
        "responses": {
          "200": {"description": "A page of contributions, or all of them as CSV",
                  "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                  "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ContributionPage"}},
                    "text/csv": {"schema": {"type": "string"}}
                  }},
          "304": {"description": "Not modified"},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/v1/claims/{claim}/route": {
      "parameters": [{"name": "claim", "in": "path", "required": true,
                      "description": "BLOCK-LOG_INDEX: the reward log's block and its index in the block (as eth_getLogs reports it).",
                      "schema": {"type": "string", "pattern": "^[0-9]{1,20}-[0-9]{1,10}$"}}],
      "get": {
        "operationId": "claimRoute",
        "summary": "With the ProvenExpansionTreasury: the route_proven transaction that routes this claim (anyone may send it)",
        "responses": {
          "200": {"description": "The transaction to send: to, data, and the claim as found in its block's receipts",
                  "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClaimRoute"}}}},
          "304": {"description": "Not modified"},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "404": {"description": "No reward the keeper ingested at that position (no_such_claim), or the keeper routes through the ExpansionTreasury (not_proven_treasury)",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"description": "The keeper's store could not be read, or two route requests are already reading the chain (busy; Retry-After)",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "502": {"description": "The keeper's node did not serve the block",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/api/v1/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "responses": {
          "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
          "304": {"description": "Not modified"},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "429": {"$ref": "#/components/responses/TooManyRequests"}
        }
      }
    }
  },
  "components": {
    "parameters": {
      "Address": {"name": "address", "in": "path", "required": true,
                  "description": "0x and 40 hex digits; mixed case must be the EIP-55 checksum.",
                  "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}}
    },
    "headers": {
      "ETag": {"description": "Send it back in If-None-Match to get 304 when nothing changed.", "schema": {"type": "string"}}
    },
    "responses": {
      "BadRequest": {"description": "Malformed address, limit, cursor, format or query string",
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooManyRequests": {"description": "Over the per-client rate limit",
                          "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}},
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unavailable": {"description": "The keeper's store could not be read",
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Wei": {"type": "string", "pattern": "^[0-9]{1,78}$", "description": "An amount in wei, as a decimal string."},
      "Address": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"},
      "Hash": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
      "Error": {
        "type": "object", "required": ["error"], "additionalProperties": false,
        "properties": {"error": {"type": "object", "required": ["code", "message"],
                                 "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
      },
      "Stats": {
        "type": "object",
        "required": ["chain_id", "treasury", "reward_token", "staking", "block", "stakers_registered", "total_contributed_wei",
                     "routes", "skips", "explorer_url", "rpc_url", "confirmations", "treasury_kind"],
        "properties": {
          "chain_id": {"type": "integer", "minimum": 1},
          "treasury": {"$ref": "#/components/schemas/Address"},
          "reward_token": {"$ref": "#/components/schemas/Address"},
          "staking": {"$ref": "#/components/schemas/Address"},
          "block": {"type": ["integer", "null"], "minimum": 0, "description": "The last block the keeper ingested (null before the first)."},
          "stakers_registered": {"type": "integer", "minimum": 0},
          "total_contributed_wei": {"$ref": "#/components/schemas/Wei"},
          "routes": {"type": "integer", "minimum": 0},
          "skips": {"type": "integer", "minimum": 0},
          "explorer_url": {"type": ["string", "null"], "description": "Base URL for transaction links: {explorer_url}/tx/{hash}."},
          "rpc_url": {"type": ["string", "null"], "description": "A public RPC endpoint the app may read from."},
          "confirmations": {"type": "integer", "minimum": 0, "description": "Blocks deep before the keeper acts (0: the node's safe/finalized block)."},
          "treasury_kind": {"type": "string", "enum": ["keeper", "proven"], "description": "keeper: ExpansionTreasury (only the keeper routes); proven: ProvenExpansionTreasury (anyone may route a proven claim)."}
        }
      },
      "Staker": {
        "type": "object",
        "required": ["address", "registered", "share_bps", "since_block", "contributed_wei", "routes", "skips", "pending", "waiting"],
        "properties": {
          "address": {"$ref": "#/components/schemas/Address"},
          "registered": {"type": "boolean"},
          "share_bps": {"type": "integer", "minimum": 0, "maximum": 10000},
          "since_block": {"type": ["integer", "null"], "minimum": 0, "description": "First block whose rewards are routed; null when not registered."},
          "contributed_wei": {"$ref": "#/components/schemas/Wei"},
          "routes": {"type": "integer", "minimum": 0},
          "skips": {"type": "integer", "minimum": 0},
          "pending": {"type": "integer", "minimum": 0, "description": "Eligible claims not yet settled by the treasury."},
          "waiting": {"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/WaitingClaim"},
                      "description": "The claims still to be routed, oldest first (at most 100)."}
        }
      },
      "WaitingClaim": {
        "type": "object",
        "required": ["claim_block", "claim_log_index", "claim_block_hash", "reward_wei", "expected_wei", "state", "reason"],
        "properties": {
          "claim_block": {"type": "integer", "minimum": 0},
          "claim_log_index": {"type": "integer", "minimum": 0},
          "claim_block_hash": {"$ref": "#/components/schemas/Hash"},
          "reward_wei": {"$ref": "#/components/schemas/Wei"},
          "expected_wei": {"$ref": "#/components/schemas/Wei", "description": "What the treasury would take: floor(reward × share / 10000)."},
          "state": {"type": "string", "enum": ["pending", "sent", "held"], "description": "held: the keeper does not send it now (reason)."},
          "reason": {"type": ["string", "null"]}
        }
      },
      "ClaimRoute": {
        "type": "object", "required": ["to", "data", "claims"],
        "properties": {
          "to": {"$ref": "#/components/schemas/Address"},
          "data": {"type": "string", "pattern": "^0x([0-9a-f]{2})*$", "description": "route_proven calldata."},
          "claims": {"type": "array", "items": {"type": "object",
                     "required": ["block", "log_index", "block_hash", "tx_index", "log_position", "staker", "amount"],
                     "properties": {"block": {"type": "integer"}, "log_index": {"type": "integer"}, "block_hash": {"$ref": "#/components/schemas/Hash"},
                                    "tx_index": {"type": "integer"}, "log_position": {"type": "integer"},
                                    "staker": {"$ref": "#/components/schemas/Address"}, "amount": {"$ref": "#/components/schemas/Wei"}}}}
        }
      },
      "Contribution": {
        "type": "object",
        "required": ["kind", "claim_block", "claim_log_index", "claim_block_hash", "reward_wei", "contributed_wei", "share_bps",
                     "tx_hash", "block", "log_index", "reason", "reason_code"],
        "properties": {
          "kind": {"type": "string", "enum": ["routed", "skipped"]},
          "claim_block": {"type": "integer", "minimum": 0},
          "claim_log_index": {"type": "integer", "minimum": 0},
          "claim_block_hash": {"oneOf": [{"$ref": "#/components/schemas/Hash"}, {"type": "null"}],
                               "description": "Null for a skip that cites no canonical block (ORPHANED, FUTURE)."},
          "reward_wei": {"$ref": "#/components/schemas/Wei"},
          "contributed_wei": {"$ref": "#/components/schemas/Wei"},
          "share_bps": {"type": "integer", "minimum": 0, "maximum": 10000},
          "tx_hash": {"$ref": "#/components/schemas/Hash"},
          "block": {"type": "integer", "minimum": 0, "description": "The block of the treasury's Routed/RouteSkipped event."},
          "log_index": {"type": "integer", "minimum": 0},
          "reason": {"type": ["string", "null"], "description": "Why the reward was skipped, in words; null for routes."},
          "reason_code": {"type": ["string", "null"], "description": "The treasury's reason name (e.g. NO_ALLOWANCE); null for routes."}
        }
      },
      "ContributionPage": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {
          "items": {"type": "array", "items": {"$ref": "#/components/schemas/Contribution"}},
          "next_cursor": {"type": ["string", "null"]}
        }
      }
    }
  }
}
"""#
}

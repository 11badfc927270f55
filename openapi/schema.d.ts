// Generated from openapi/openapi.json by openapi-typescript (`npm run openapi`). Do not edit.

export interface paths {
    "/users/{userId}/sync-relations/{provider}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a user's sync relation with one identity source
         * @description Removes the sync relation between one Authing user and one external identity source, by calling
         *     Authing's `POST /api/v3/delete-user-sync-relations` with this service's credentials.
         *
         *     **Results.** 200 passes Authing's answer through (`data.success` says whether a relation was removed).
         *     Every error uses the `ErrorEnvelope`: `code` is stable and machine-readable; `apiCode` and `authingRequestId`
         *     appear when the error came from Authing. 4xx: the caller can fix the request. 502/503/504: the upstream or this
         *     deployment is at fault; 504 means the outcome is unknown (Authing may or may not have removed the relation).
         *
         *     Every response carries `X-Request-Id` (send a UUID to choose it). Any request body is ignored.
         */
        delete: operations["deleteUserSyncRelation"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * IsSuccessRespDto
         * @description Authing's answer, passed through unchanged. The service's own request id is in the X-Request-Id header.
         * @example {
         *       "statusCode": 200,
         *       "message": "操作成功",
         *       "requestId": "934108e5-9fbf-4d24-8da1-c330328abd6c",
         *       "data": {
         *         "success": true
         *       }
         *     }
         */
        IsSuccessRespDto: {
            /**
             * @description Authing business status: 200 means the call succeeded.
             * @example 200
             * @enum {number}
             */
            statusCode: 200;
            /**
             * @description Authing's message, in AUTHING_LANG (may be empty).
             * @example 操作成功
             */
            message: string;
            /**
             * @description Authing's request id (quote it to Authing support).
             * @example 934108e5-9fbf-4d24-8da1-c330328abd6c
             */
            requestId?: string;
            data: {
                /**
                 * @description Whether Authing removed the relation.
                 * @example true
                 */
                success: boolean;
            };
        };
        /**
         * ErrorEnvelope
         * @description The one envelope of every error this service returns.
         */
        ErrorEnvelope: {
            /**
             * @description The HTTP status of this response.
             * @example 404
             */
            statusCode: number;
            /**
             * @description Stable, machine-readable error code (see the README error table).
             * @example USER_NOT_FOUND
             * @enum {string}
             */
            code: "INVALID_USER_ID" | "INVALID_USER_ID_TYPE" | "UNSUPPORTED_PROVIDER" | "UNKNOWN_QUERY_PARAMETER" | "REPEATED_QUERY_PARAMETER" | "MALFORMED_URL" | "INVALID_REQUEST" | "UNAUTHENTICATED" | "FORBIDDEN_PROVIDER" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "PAYLOAD_TOO_LARGE" | "RATE_LIMITED" | "TOO_MANY_IN_FLIGHT" | "REQUEST_TIMEOUT" | "EXPECTATION_FAILED" | "HEADERS_TOO_LARGE" | "AUTHING_INVALID_ARGUMENT" | "USER_NOT_FOUND" | "AUTHING_NOT_FOUND" | "AUTHING_CONFLICT" | "AUTHING_INVALID_OPERATION" | "AUTHING_THROTTLED" | "UPSTREAM_AUTH_REJECTED" | "UPSTREAM_FORBIDDEN" | "UPSTREAM_BILLING" | "UPSTREAM_MISCONFIGURED" | "UPSTREAM_ERROR" | "UPSTREAM_BAD_RESPONSE" | "UPSTREAM_CONNECTION_FAILED" | "UPSTREAM_UNAVAILABLE" | "UPSTREAM_OVERLOADED" | "UPSTREAM_CIRCUIT_OPEN" | "UPSTREAM_TIMEOUT" | "AUDIT_UNAVAILABLE" | "SHUTTING_DOWN" | "INTERNAL_ERROR";
            /**
             * @description What went wrong, for humans. Never contains secrets or internals.
             * @example 用户不存在
             */
            message: string;
            /**
             * @description This service's request id, the same as the X-Request-Id header.
             * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
             */
            requestId: string;
            /**
             * @description Authing's detailed error code, when Authing gave one.
             * @example 2004
             */
            apiCode?: number;
            /**
             * @description Authing's business statusCode, when the error came from Authing.
             * @example 404
             */
            authingStatusCode?: number;
            /**
             * @description Authing's request id, when the error came from Authing.
             * @example c8a2e6f0-1b2c-4d3e-8f9a-0b1c2d3e4f5a
             */
            authingRequestId?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    deleteUserSyncRelation: {
        parameters: {
            query?: {
                /**
                 * @description What kind of id `userId` is: `user_id` (Authing user id), `phone`, `email`, `username`, `external_id` (the user's externalId), `identity` or `sync_relation`. Exact case.
                 * @example user_id
                 */
                userIdType?: "user_id" | "phone" | "email" | "username" | "external_id" | "identity" | "sync_relation";
            };
            header?: never;
            path: {
                /**
                 * @description The user, in the form its userIdType says; percent-encode reserved characters (`/` as %2F, `+` stays a plus). At most 512 characters after decoding.
                 *
                 *     - `identity`: `<24-hex extIdpId>:<id in the identity source>`
                 *     - `sync_relation`: `<provider>:<id in that provider>`
                 *     - `email`, `phone`: must look like one.
                 * @example 6229ffaa0b1c2d3e4f5a6b7c
                 */
                userId: string;
                /**
                 * @description The external identity source whose relation is removed: `wechatwork` (WeCom (企业微信)), `dingtalk` (DingTalk (钉钉)), `lark` (Lark / Feishu (飞书)), `welink` (WeLink), `ldap` (LDAP), `active-directory` (Windows AD), `italent` (Beisen iTalent (北森)), `xiaoshouyi` (Xiaoshouyi (销售易)), `maycur` (Maycur (每刻报销)), `scim` (SCIM), `moka` (Moka HR).
                 * @example lark
                 */
                provider: "wechatwork" | "dingtalk" | "lark" | "welink" | "ldap" | "active-directory" | "italent" | "xiaoshouyi" | "maycur" | "scim" | "moka";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Authing processed the call; its answer is passed through. */
            200: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IsSuccessRespDto"];
                };
            };
            /**
             * @description `INVALID_USER_ID`: The userId is not valid for its userIdType.
             *
             *     `INVALID_USER_ID_TYPE`: The userIdType is not one of the supported values.
             *
             *     `UNSUPPORTED_PROVIDER`: The provider is not one of the supported identity sources.
             *
             *     `UNKNOWN_QUERY_PARAMETER`: The request has a query parameter this route does not accept.
             *
             *     `REPEATED_QUERY_PARAMETER`: A query parameter was given more than once.
             *
             *     `MALFORMED_URL`: The URL is not well-formed (check its percent-encoding).
             *
             *     `INVALID_REQUEST`: The request is not valid.
             *
             *     `AUTHING_INVALID_ARGUMENT`: Authing rejected the request as invalid.
             */
            400: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description `UNAUTHENTICATED`: A valid caller key is required: send Authorization: Bearer <key>. */
            401: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    /**
                     * @description The authentication scheme: `Bearer`.
                     * @example Bearer realm="sync-relations-proxy", error="invalid_token"
                     */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description `FORBIDDEN_PROVIDER`: This caller may not remove relations for this provider. */
            403: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /**
             * @description `USER_NOT_FOUND`: Authing found no user with this id.
             *
             *     `AUTHING_NOT_FOUND`: Authing found nothing to remove for this user and provider.
             */
            404: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description `AUTHING_CONFLICT`: Authing reported a conflict. */
            409: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description `PAYLOAD_TOO_LARGE`: The request body is too large. */
            413: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description `AUTHING_INVALID_OPERATION`: Authing refused the operation in the current state. */
            422: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /**
             * @description `RATE_LIMITED`: This caller has sent too many requests; retry after the time in Retry-After.
             *
             *     `TOO_MANY_IN_FLIGHT`: This caller has too many requests in progress; retry after the time in Retry-After.
             *
             *     `AUTHING_THROTTLED`: Authing is throttling requests; retry after the time in Retry-After.
             */
            429: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    /**
                     * @description Seconds to wait before retrying.
                     * @example 1
                     */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /**
             * @description `UPSTREAM_AUTH_REJECTED`: Authing rejected this service's credentials or signature.
             *
             *     `UPSTREAM_FORBIDDEN`: This service's Authing key lacks the permission for this operation.
             *
             *     `UPSTREAM_BILLING`: Authing refused the call for a billing reason.
             *
             *     `UPSTREAM_MISCONFIGURED`: The Authing host or user pool is misconfigured.
             *
             *     `UPSTREAM_ERROR`: Authing failed to process the request.
             *
             *     `UPSTREAM_BAD_RESPONSE`: Authing sent a response this service cannot read.
             *
             *     `UPSTREAM_CONNECTION_FAILED`: The connection to Authing failed.
             */
            502: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /**
             * @description `UPSTREAM_UNAVAILABLE`: Authing is unavailable; retry later.
             *
             *     `UPSTREAM_OVERLOADED`: Too many calls to Authing are in progress; retry after the time in Retry-After.
             *
             *     `UPSTREAM_CIRCUIT_OPEN`: Calls to Authing are paused after repeated failures; retry after the time in Retry-After.
             *
             *     `AUDIT_UNAVAILABLE`: The audit trail cannot be written, so nothing was sent to Authing.
             *
             *     `SHUTTING_DOWN`: The service is shutting down; retry on another instance.
             */
            503: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    /**
                     * @description Seconds to wait before retrying.
                     * @example 1
                     */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
            /** @description `UPSTREAM_TIMEOUT`: Authing did not answer in time. The relation may or may not have been removed. */
            504: {
                headers: {
                    /**
                     * @description This service's request id (a UUID); also in the audit trail and logs.
                     * @example b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d
                     */
                    "X-Request-Id": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorEnvelope"];
                };
            };
        };
    };
}

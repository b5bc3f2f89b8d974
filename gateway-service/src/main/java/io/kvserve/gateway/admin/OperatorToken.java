package io.kvserve.gateway.admin;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The operator credential ({@code gateway.admin.operator-token}) as the admin API and the status page
 * check it: both the
 * configured and the given token are hashed with SHA-256 and compared with
 * {@link MessageDigest#isEqual}, so the comparison takes the same time whatever the given token is; 401
 * without or with a wrong token, 403 for everything while no token is configured.
 */
public final class OperatorToken {

    private final byte[] sha;
    private final String what;

    /**
     * @param token the configured token; empty disables what it guards
     * @param what  what it guards, for messages ("The status API")
     */
    public OperatorToken(String token, String what) {
        this.sha = token.isEmpty() ? null : sha256(token);
        this.what = what;
    }

    public boolean configured() {
        return sha != null;
    }

    /**
     * Checks an {@code Authorization} header.
     *
     * @throws OpenAiException 403 {@code admin_disabled} when no token is configured, 401
     *                         {@code invalid_operator_token} when the header lacks it
     */
    public void check(String authorization) {
        if (sha == null) {
            throw new OpenAiException(403, new OpenAiError(what + " is disabled: set gateway.admin.operator-token "
                    + "to enable it.", "permission_error", null, "admin_disabled"), null);
        }
        String token = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                ? authorization.substring(7) : "";
        if (!MessageDigest.isEqual(sha, sha256(token))) {
            throw new OpenAiException(401, new OpenAiError(what + " needs the operator token "
                    + "(Authorization: Bearer <gateway.admin.operator-token>)"
                    + (authorization == null ? "; none was given." : "; the one given is wrong."),
                    "invalid_request_error", null, "invalid_operator_token"), null);
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}

package io.kvserve.gateway.api;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection whose request head (request line and headers) has not arrived in time: the
 * slowloris defence that Reactor Netty's read and request timeouts leave open, since those start once
 * the head is in. A new connection must deliver its first head within {@code headDeadline}; after a
 * response, a kept-alive connection gets {@code keepAliveDeadline} for the next head (longer: clients
 * pool connections, and one closed under a client's feet costs it a failed request). Sits after the
 * HTTP codec, where whole {@link HttpRequest} heads arrive.
 */
public final class RequestHeadDeadline extends ChannelDuplexHandler {

    public static final String NAME = "kvserve.requestHeadDeadline";

    private final long headDeadlineNanos;
    private final long keepAliveDeadlineNanos;
    private ScheduledFuture<?> deadline;

    public RequestHeadDeadline(Duration headDeadline, Duration keepAliveDeadline) {
        this.headDeadlineNanos = headDeadline.toNanos();
        this.keepAliveDeadlineNanos = keepAliveDeadline.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            arm(ctx, headDeadlineNanos);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx, headDeadlineNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            disarm();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent) {
            promise = promise.unvoid();
            promise.addListener(f -> arm(ctx, keepAliveDeadlineNanos));
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        disarm();
        ctx.fireChannelInactive();
    }

    private void arm(ChannelHandlerContext ctx, long nanos) {
        disarm();
        deadline = ctx.executor().schedule(() -> {
            ctx.close();
        }, nanos, TimeUnit.NANOSECONDS);
    }

    private void disarm() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }
}

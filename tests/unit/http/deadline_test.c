/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deadline_test.c - tests for src/http/deadline.c on socket pairs: a socket
 * past its deadline is shut down (its peer reads end-of-stream), one without
 * a deadline or whose deadline was cleared is left alone, a deadline can be
 * moved, a lingering socket takes what its peer still sends after the
 * server closed, then closes, and stopping frees entries still registered.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/deadline.h"

#include "core/str.h"

/* Generous: the watchdog looks every HTTP_DEADLINE_TICK_MS. */
#define WAIT_MS 5000

/* Did the peer see end-of-stream within ms? */
static bool peer_sees_eof(int peer, int ms)
{
    struct pollfd p = { .fd = peer, .events = POLLIN };
    if (poll(&p, 1, ms) != 1)
        return false;
    char c;
    return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

static void pair(int fds[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

Test(deadline, past_deadline_is_shut_down)
{
    struct http_deadlines *set = NULL;
    cr_assert_eq(http_deadlines_start(&set), OK);
    int a[2], b[2];
    pair(a);
    pair(b);
    struct http_deadline *late = http_deadlines_add(set, a[0], http_deadline_in(0));
    struct http_deadline *none = http_deadlines_add(set, b[0], 0);
    cr_assert_not_null(late);
    cr_assert_not_null(none);
    cr_assert(peer_sees_eof(a[1], WAIT_MS), "the late socket is shut down");
    cr_assert_not(peer_sees_eof(b[1], 3 * HTTP_DEADLINE_TICK_MS), "no deadline: left open");
    http_deadlines_remove(set, late);
    http_deadlines_remove(set, none);
    http_deadlines_stop(set);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
}

Test(deadline, cleared_and_moved_deadlines)
{
    struct http_deadlines *set = NULL;
    cr_assert_eq(http_deadlines_start(&set), OK);
    int a[2], b[2];
    pair(a);
    pair(b);
    struct http_deadline *cleared = http_deadlines_add(set, a[0], http_deadline_in(3600));
    struct http_deadline *moved = http_deadlines_add(set, b[0], http_deadline_in(3600));
    http_deadline_set(cleared, 0);
    http_deadline_set(moved, http_deadline_in(0));
    cr_assert(peer_sees_eof(b[1], WAIT_MS), "a deadline moved into the past fires");
    cr_assert_not(peer_sees_eof(a[1], 3 * HTTP_DEADLINE_TICK_MS), "a cleared deadline never fires");
    /* entries still registered are freed by stop (LeakSanitizer checks) */
    http_deadlines_stop(set);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
}

Test(deadline, lingering_socket_drains_then_closes)
{
    struct http_deadlines *set = NULL;
    cr_assert_eq(http_deadlines_start(&set), OK);
    int a[2];
    pair(a);
    struct http_deadline *e = http_deadlines_add(set, a[0], 0);
    http_deadline_linger(e);
    http_deadlines_remove(set, e);
    close(a[0]); /* as libmicrohttpd does right after */
    /* the peer may go on sending its body: far more than the socket buffers */
    static char body[1 << 20];
    size_t sent = 0;
    while (sent < sizeof(body)) {
        ssize_t n = send(a[1], body + sent, sizeof(body) - sent, MSG_NOSIGNAL);
        cr_assert_gt(n, 0, "the lingering socket takes the body");
        sent += (size_t)n;
    }
    shutdown(a[1], SHUT_WR);
    cr_assert(peer_sees_eof(a[1], WAIT_MS), "closed once the peer is done");
    close(a[1]);
    /* one left lingering is closed by stop */
    pair(a);
    e = http_deadlines_add(set, a[0], 0);
    http_deadline_linger(e);
    http_deadlines_remove(set, e);
    close(a[0]);
    http_deadlines_stop(set);
    cr_assert(peer_sees_eof(a[1], WAIT_MS), "stop closes lingering sockets");
    close(a[1]);
}

Test(deadline, null_is_a_no_op)
{
    struct http_deadlines *set = NULL;
    cr_assert_eq(http_deadlines_start(&set), OK);
    http_deadline_set(NULL, 1);
    http_deadlines_remove(set, NULL);
    http_deadlines_stop(set);
    http_deadlines_stop(NULL);
}

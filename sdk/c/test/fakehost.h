/* The fake host's state, for native unit tests of warden.h (fakehost.c). */
#ifndef FAKEHOST_H
#define FAKEHOST_H

#include "warden.h"

extern uint8_t fake_request[4096]; /* the last encoded http_request request */
extern size_t fake_request_len;
extern int fake_requests;          /* how many http_request calls */
extern const uint8_t *fake_answer; /* the encoded response, when fake_status is 0 */
extern size_t fake_answer_len;
extern int32_t fake_status;        /* < 0: http_request fails with it ... */
extern const char *fake_message;   /* ... and last_error says this */
extern int32_t fake_error_code;    /* what error_set got */
extern char fake_error_msg[1024];

void fake_reset(void);

#endif

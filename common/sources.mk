# common/sources.mk — sources of the shared pure-C rules library (docs/contracts.md "Layout").
# Names are relative to common/. Include from other Makefiles and prefix the path, e.g.
#   include $(TOP)/common/sources.mk
#   SRCS += $(addprefix $(TOP)/common/,$(TTHC_COMMON_SRCS))
TTHC_COMMON_SRCS := tthc_code.c tthc_time.c tthc_text.c tthc_mask.c tthc_status.c tthc_errors.c tthc_multipart.c tthc_scope.c tthc_calendar.c
TTHC_COMMON_HDRS := tthc_code.h tthc_time.h tthc_text.h tthc_mask.h tthc_status.h tthc_errors.h tthc_multipart.h tthc_scope.h tthc_utf8.h tthc_calendar.h

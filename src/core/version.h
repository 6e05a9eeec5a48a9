/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.h - the version of scimd, as it names itself to others (the
 * User-Agent of outbound requests: "scimd/<version>").  One constant; no code.
 */
#ifndef SCIMD_CORE_VERSION_H
#define SCIMD_CORE_VERSION_H

#define SCIMD_VERSION "0.1.0"

#endif

/* PLACEHOLDER main until cli/ lands. */
#include "twinpix/twinpix.h"
#include <stdio.h>
int main(void)
{
    for (int i = 0; i < tp_op_count(); i++)
        printf("%s\n", tp_op_name(i));
    return 0;
}

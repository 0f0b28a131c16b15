#ifndef CGPU_H
#define CGPU_H
#endif
